package redisdriver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/redisdriver"
)

// selfSigned writes a self-signed certificate and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func newClient(t *testing.T, raw string) (redis.UniversalClient, error) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	c, err := redisdriver.NewClient(u)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// The TLS parameters load the CA and the client certificate into the TLS
// configuration of every kind of client. (A real TLS server is in
// tasks/broker/redisbroker's tls_test.go.)
func TestTLSParams(t *testing.T) {
	cert, key := selfSigned(t)
	tlsq := "tls_ca_file=" + url.QueryEscape(cert) + "&tls_cert_file=" + url.QueryEscape(cert) + "&tls_key_file=" + url.QueryEscape(key)
	c, err := newClient(t, "rediss://127.0.0.1:6380/0?"+tlsq)
	if err != nil {
		t.Fatal(err)
	}
	if o := c.(*redis.Client).Options(); o.TLSConfig == nil || o.TLSConfig.RootCAs == nil || len(o.TLSConfig.Certificates) != 1 {
		t.Fatalf("rediss:// TLS config without the CA or the client certificate: %+v", o.TLSConfig)
	}
	c, err = newClient(t, "rediss+cluster://127.0.0.1:7000,127.0.0.1:7001?"+tlsq)
	if err != nil {
		t.Fatal(err)
	}
	if o := c.(*redis.ClusterClient).Options(); o.TLSConfig == nil || o.TLSConfig.RootCAs == nil || len(o.TLSConfig.Certificates) != 1 {
		t.Fatalf("rediss+cluster:// TLS config without the CA or the client certificate: %+v", o.TLSConfig)
	}
	if _, err := newClient(t, "rediss+sentinel://127.0.0.1:26379/0?master_name=m&"+tlsq); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{
		"redis://127.0.0.1:6379/0?tls_ca_file=" + url.QueryEscape(cert),                                              // not TLS
		"redis+cluster://127.0.0.1:7000?tls_cert_file=" + url.QueryEscape(cert),                                      // not TLS
		"rediss://127.0.0.1:6380/0?tls_cert_file=" + url.QueryEscape(cert),                                           // no key
		"rediss://127.0.0.1:6380/0?tls_ca_file=" + url.QueryEscape(cert+".missing"),                                  // no file
		"rediss://127.0.0.1:6380/0?tls_ca_file=" + url.QueryEscape(key),                                              // no certificate
		"rediss://127.0.0.1:6380/0?tls_cert_file=" + url.QueryEscape(key) + "&tls_key_file=" + url.QueryEscape(cert), // swapped
	} {
		if _, err := newClient(t, raw); err == nil {
			t.Errorf("NewClient(%q) accepted", raw)
		}
	}
}

// A server that closes a plain connection before any reply (what Redis does
// on its TLS port) gives ErrClosedBeforeReply, not a bare EOF.
func TestClosedBeforeReply(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	d := openURL(t, "redis://"+ln.Addr().String()+"/0?timeout=2s")
	defer d.Close()
	_, err = d.Get(context.Background(), "k")
	if !errors.Is(err, redisdriver.ErrClosedBeforeReply) || !errors.Is(err, driver.ErrUnavailable) {
		t.Fatalf("Get from a server that closes at once: %v, want ErrUnavailable and ErrClosedBeforeReply", err)
	}
}
