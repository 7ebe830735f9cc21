package redisdriver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit"
	"github.com/repokit/repokit/cache"
	"github.com/repokit/repokit/cache/driver"
)

// DefaultTimeout bounds dialing, each read and write, and waiting for a pooled
// connection, unless the URL says otherwise.
const DefaultTimeout = time.Second

// Schemes registered by this package.
var Schemes = []string{"redis", "rediss", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster"}

func init() {
	for _, s := range Schemes {
		cache.DefaultURLMux().Register(s, URLOpener{})
	}
}

// URLOpener opens Redis URLs (see the package doc).
type URLOpener struct{}

// OpenCacheURL implements driver.URLOpener.
func (URLOpener) OpenCacheURL(ctx context.Context, u *url.URL) (driver.Driver, error) {
	rdb, err := NewClient(u)
	if err != nil {
		return nil, err
	}
	return New(rdb, WithCloseClient()), nil
}

// NewClient builds the go-redis client a URL describes (see the package doc),
// without connecting.
func NewClient(u *url.URL) (redis.UniversalClient, error) {
	base, mode, _ := strings.Cut(u.Scheme, "+")
	if base != "redis" && base != "rediss" {
		return nil, fmt.Errorf("redisdriver: unsupported scheme %q", u.Scheme)
	}
	q := u.Query()
	timeout := DefaultTimeout
	if q.Has("timeout") {
		t, err := time.ParseDuration(q.Get("timeout"))
		if err != nil || t <= 0 {
			return nil, fmt.Errorf("redisdriver: timeout: want a duration like 500ms, got %q", q.Get("timeout"))
		}
		timeout = t
		q.Del("timeout")
	}
	userRetries := q.Has("max_retries")
	tlsFiles, err := takeTLSParams(q, base == "rediss")
	if err != nil {
		return nil, err
	}
	// Several hosts "h1:p1,h2:p2": the first is the URL host, the others go-redis addr= params.
	hosts := strings.Split(u.Host, ",")
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	v := *u
	v.Scheme = base
	v.Host = hosts[0]
	v.RawQuery = q.Encode()
	s := v.String()
	switch mode {
	case "":
		if len(hosts) > 1 {
			return nil, fmt.Errorf("redisdriver: several hosts need redis+cluster:// or redis+sentinel://")
		}
		o, err := redis.ParseURL(s)
		if err != nil {
			return nil, fmt.Errorf("redisdriver: %w", err)
		}
		applyTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, timeout, q)
		if !userRetries {
			o.MaxRetries = -1
		}
		if err := tlsFiles.apply(o.TLSConfig); err != nil {
			return nil, err
		}
		if o.TLSConfig == nil {
			o.Dialer = plainDialer(o.DialTimeout)
		}
		return redis.NewClient(o), nil
	case "sentinel":
		o, err := redis.ParseFailoverURL(s)
		if err != nil {
			return nil, fmt.Errorf("redisdriver: %w", err)
		}
		if o.MasterName == "" {
			return nil, fmt.Errorf("redisdriver: redis+sentinel:// needs master_name=")
		}
		applyTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, timeout, q)
		if !userRetries {
			o.MaxRetries = -1
		}
		if err := tlsFiles.apply(o.TLSConfig); err != nil {
			return nil, err
		}
		if o.TLSConfig == nil {
			o.Dialer = plainDialer(o.DialTimeout)
		}
		return redis.NewFailoverClient(o), nil
	case "cluster":
		o, err := redis.ParseClusterURL(s)
		if err != nil {
			return nil, fmt.Errorf("redisdriver: %w", err)
		}
		applyTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, timeout, q)
		if !userRetries {
			o.MaxRetries = -1
		}
		if err := tlsFiles.apply(o.TLSConfig); err != nil {
			return nil, err
		}
		if o.TLSConfig == nil {
			o.Dialer = plainDialer(o.DialTimeout)
		}
		return redis.NewClusterClient(o), nil
	}
	return nil, fmt.Errorf("redisdriver: unsupported scheme %q", u.Scheme)
}

// applyTimeouts sets each timeout the URL did not set explicitly.
func applyTimeouts(dial, read, write, pool *time.Duration, t time.Duration, q url.Values) {
	for name, p := range map[string]*time.Duration{"dial_timeout": dial, "read_timeout": read, "write_timeout": write, "pool_timeout": pool} {
		if !q.Has(name) {
			*p = t
		}
	}
}

// TLS parameters of rediss URLs (go-redis itself only knows skip_verify).
const (
	ParamTLSCAFile   = "tls_ca_file"   // PEM file of the CAs to trust instead of the system's
	ParamTLSCertFile = "tls_cert_file" // PEM client certificate (servers with tls-auth-clients yes)
	ParamTLSKeyFile  = "tls_key_file"  // its PEM private key
)

type tlsFiles struct{ ca, cert, key string }

// takeTLSParams removes the TLS parameters from q (go-redis rejects
// unknown ones). They are an error on a URL without TLS, where they would
// silently do nothing.
func takeTLSParams(q url.Values, tlsOn bool) (tlsFiles, error) {
	f := tlsFiles{ca: q.Get(ParamTLSCAFile), cert: q.Get(ParamTLSCertFile), key: q.Get(ParamTLSKeyFile)}
	for _, k := range []string{ParamTLSCAFile, ParamTLSCertFile, ParamTLSKeyFile} {
		if q.Has(k) && !tlsOn {
			return f, fmt.Errorf("redisdriver: %s needs a TLS URL (rediss://, rediss+sentinel://, rediss+cluster://)", k)
		}
		q.Del(k)
	}
	if (f.cert == "") != (f.key == "") {
		return f, fmt.Errorf("redisdriver: %s and %s go together", ParamTLSCertFile, ParamTLSKeyFile)
	}
	return f, nil
}

// apply loads the files into c (the TLS config go-redis made from the URL).
func (f tlsFiles) apply(c *tls.Config) error {
	if c == nil {
		return nil
	}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return fmt.Errorf("redisdriver: %s: %w", ParamTLSCAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("redisdriver: %s %s: no PEM certificate in it", ParamTLSCAFile, f.ca)
		}
		c.RootCAs = pool
	}
	if f.cert != "" {
		kp, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return fmt.Errorf("redisdriver: %s/%s: %w", ParamTLSCertFile, ParamTLSKeyFile, err)
		}
		c.Certificates = []tls.Certificate{kp}
	}
	return nil
}

// ErrClosedBeforeReply is the error of a redis:// (plain) connection that
// the server closed (or reset) before any reply, wrapping the read's own
// error. Redis drops a client that does not open with a TLS handshake on its
// TLS port without a word, which a plain client would otherwise only see as
// "EOF".
var ErrClosedBeforeReply = repokit.NewError("redisdriver: the server closed the connection before any reply (a TLS port? then use rediss://)", driver.ErrUnavailable)

// plainDialer dials as go-redis's default dialer does without TLS, and
// reports a connection closed before its first reply as
// ErrClosedBeforeReply.
func plainDialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 30 * time.Second, Interval: 5 * time.Second, Count: 3,
	}}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &plainConn{Conn: c}, nil
	}
}

type plainConn struct {
	net.Conn
	replied atomic.Bool
}

func (c *plainConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.replied.Store(true)
	} else if (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) && !c.replied.Load() {
		err = fmt.Errorf("%w: %w", ErrClosedBeforeReply, err)
	}
	return n, err
}

// SyscallConn lets go-redis's pool check the socket's health as it does on
// the connections of its own dialer.
func (c *plainConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("redisdriver: connection has no file descriptor")
	}
	return sc.SyscallConn()
}
