package redisbroker_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/cache/redisdriver"
	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
	"github.com/repokit/repokit/tasks/taskstest"
)

// pki is a throwaway CA with a server certificate for 127.0.0.1 and a
// client certificate, as PEM files in a temporary directory.
type pki struct {
	dir                  string
	ca                   string // CA certificate
	serverCert, serverKy string
	clientCert, clientKy string
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "repokit test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p.ca = p.write(t, "ca.pem", "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage, ips []net.IP) (string, string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: ips, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return p.write(t, name+".pem", "CERTIFICATE", der), p.write(t, name+"-key.pem", "PRIVATE KEY", kder)
	}
	p.serverCert, p.serverKy = issue("server", 2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.clientCert, p.clientKy = issue("client", 3, x509.ExtKeyUsageClientAuth, nil)
	return p
}

func (p *pki) write(t testing.TB, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsServer starts a throwaway redis-server that listens on a TLS port
// only (--port 0). authClients is its tls-auth-clients: "no", or "yes" to
// require a client certificate signed by the CA.
func tlsServer(t testing.TB, p *pki, authClients string) int {
	t.Helper()
	bin := testenv.Binary(t, "redis-server")
	dir := t.TempDir()
	port := brokertest.StartServer(t, "TLS redis-server", func(port int) *exec.Cmd {
		cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", "0", "--tls-port", fmt.Sprint(port),
			"--tls-cert-file", p.serverCert, "--tls-key-file", p.serverKy, "--tls-ca-cert-file", p.ca,
			"--tls-auth-clients", authClients, "--dir", dir, "--save", "", "--appendonly", "no", "--logfile", "redis.log")
		cmd.Dir = dir
		return cmd
	}).Port
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(p.ca)
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("CA: %v", err)
	}
	kp, err := tls.LoadX509KeyPair(p.clientCert, p.clientKy)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{kp}, ServerName: "127.0.0.1"}
	// Up once a TLS handshake and a PING succeed (the TCP port accepts
	// before the server is ready to talk).
	brokertest.Eventually(t, "TLS redis-server up", func() bool {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", port), cfg)
		if err != nil {
			return false
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return false
		}
		buf := make([]byte, 7)
		n, _ := c.Read(buf)
		return string(buf[:n]) == "+PONG\r\n"
	})
	return port
}

// tlsURL is the rediss URL of a TLS server trusting the test CA.
func (p *pki) url(port int, params string) string {
	return fmt.Sprintf("rediss://127.0.0.1:%d/0?tls_ca_file=%s&%s", port, url.QueryEscape(p.ca), params)
}

// TestTLSConformance runs the tasks conformance suite (on SQLite: the
// store does not change what TLS does) through a rediss:// URL to a
// redis-server that speaks only TLS, trusting the test CA with
// tls_ca_file; the resilience test's Disrupt kills the broker's TLS
// connections.
func TestTLSConformance(t *testing.T) {
	p := newPKI(t)
	port := tlsServer(t, p, "no")
	base := p.url(port, "timeout=2s")
	name := "repokit-tasks-tls-" + randName()
	h := taskstest.Harness{
		Dialect:   string(sqldb.SQLite),
		BrokerURL: base + "&lease=" + testenv.Scaled(5*time.Second).Truncate(time.Second).String() + "&client_name=" + name,
		NameParam: "prefix",
		Unordered: true,
		Disrupt: func(t *testing.T) {
			rdb := rawClient(t, base)
			ctx := context.Background()
			n, err := rdb.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes", "USER", "default").Int64()
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("no broker connection to kill")
			}
		},
	}
	taskstest.Run(t, h)
}

// TestTLSReclaim runs the whole cycle over TLS with a client certificate
// (tls-auth-clients yes): publish, claim, ack, and the reclaim by another
// consumer of a message whose consumer stopped without acknowledging it.
func TestTLSReclaim(t *testing.T) {
	p := newPKI(t)
	port := tlsServer(t, p, "yes")
	raw := p.url(port, "lease=1s&tls_cert_file="+url.QueryEscape(p.clientCert)+"&tls_key_file="+url.QueryEscape(p.clientKy))
	b := open(t, raw)
	ctx := context.Background()
	s1, err := b.Subscribe(ctx, "q", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, "q", []int64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	d, ok := brokertest.Receive(t, s1, 20*time.Second)
	if !ok {
		t.Fatal("nothing delivered over TLS")
	}
	acked := d.TaskID()
	d.Ack()
	held, ok := brokertest.Receive(t, s1, 20*time.Second)
	if !ok {
		t.Fatal("second message not delivered over TLS")
	}
	// s1 stops holding it, unacknowledged and no longer extended: the
	// message must come back to another consumer after the lease.
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	pending, err := b.Client().XPending(ctx, b.Stream("q"), b.Group()).Result()
	if err != nil || pending.Count == 0 {
		t.Fatalf("held message not pending after its consumer closed: %+v %v", pending, err)
	}
	s2 := brokertest.Subscribe(t, b, "q", 4)
	got := map[int64]bool{}
	for len(got) < 2 {
		d, ok := brokertest.Receive(t, s2, 20*time.Second)
		if !ok {
			t.Fatalf("after the first consumer closed, %d of 2 delivered: %v", len(got), got)
		}
		if d.TaskID() == acked {
			t.Fatalf("acknowledged message %d delivered again", acked)
		}
		got[d.TaskID()] = true
		d.Ack()
	}
	if !got[held.TaskID()] {
		t.Fatalf("held message %d not reclaimed: got %v", held.TaskID(), got)
	}
	brokertest.Eventually(t, "stream drained over TLS", func() bool {
		n, err1 := b.Client().XLen(ctx, b.Stream("q")).Result()
		p, err2 := b.Client().XPending(ctx, b.Stream("q"), b.Group()).Result()
		return err1 == nil && err2 == nil && n == 0 && p.Count == 0
	})
}

// A TLS server refuses what is not properly TLS: a plain redis:// client,
// a rediss:// client that does not trust the server's CA, a client without
// a certificate where one is required; TLS parameters on a plain URL are
// invalid.
func TestTLSRefusals(t *testing.T) {
	p := newPKI(t)
	port := tlsServer(t, p, "yes")
	ctx := context.Background()
	publish := func(raw string) error {
		b := open(t, raw)
		pctx, cancel := context.WithTimeout(ctx, testenv.Scaled(20*time.Second))
		defer cancel()
		return b.Publish(pctx, "q", []int64{1})
	}
	// Plain TCP to the TLS port.
	err := publish(fmt.Sprintf("redis://127.0.0.1:%d/0?timeout=2s", port))
	if err == nil {
		t.Fatal("plain redis:// client published to a TLS port")
	}
	if !errors.Is(err, redisdriver.ErrClosedBeforeReply) || !strings.Contains(err.Error(), "rediss://") {
		t.Errorf("plain client to the TLS port: %v, want redisdriver.ErrClosedBeforeReply", err)
	}
	// Untrusted server certificate (the system's CAs).
	err = publish(fmt.Sprintf("rediss://127.0.0.1:%d/0?timeout=2s", port))
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("rediss:// without the test CA: %v, want x509.UnknownAuthorityError", err)
	}
	// Trusted, but no client certificate where one is required.
	if err := publish(p.url(port, "timeout=2s")); err == nil {
		t.Error("client without a certificate published to a tls-auth-clients yes server")
	}
	for _, raw := range []string{
		fmt.Sprintf("redis://127.0.0.1:%d/0?tls_ca_file=%s", port, p.ca),
		p.url(port, "tls_cert_file="+url.QueryEscape(p.clientCert)),
		fmt.Sprintf("rediss://127.0.0.1:%d/0?tls_ca_file=%s", port, filepath.Join(p.dir, "missing.pem")),
		fmt.Sprintf("rediss://127.0.0.1:%d/0?tls_ca_file=%s", port, p.clientKy),
	} {
		b, err := tasks.OpenBroker(ctx, raw)
		if err == nil {
			b.Close()
			t.Errorf("OpenBroker(%q) accepted", raw)
		} else if !errors.Is(err, tasks.ErrInvalid) {
			t.Errorf("OpenBroker(%q): %v, want ErrInvalid", raw, err)
		}
	}
}
