package webdav

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"

	"github.com/repokit/repokit/storage"
)

// Schemes registered with gocloud's default blob URL mux (and so with
// storage.OpenLocation) when this package is imported.
const (
	Scheme    = "webdav"  // plain HTTP
	SchemeTLS = "webdavs" // HTTPS
)

// Environment variables read when the URL carries no credentials.
const (
	EnvUser     = "REPOKIT_WEBDAV_USER"
	EnvPassword = "REPOKIT_WEBDAV_PASSWORD"
	EnvToken    = "REPOKIT_WEBDAV_TOKEN"
)

func init() {
	o := &URLOpener{}
	blob.DefaultURLMux().RegisterBucket(Scheme, o)
	blob.DefaultURLMux().RegisterBucket(SchemeTLS, o)
}

// URLOpener opens webdav:// and webdavs:// URLs (see the package doc).
type URLOpener struct {
	// HTTPClient, if set, is used instead of one built from the URL (tests;
	// its transport should not follow redirects).
	HTTPClient *http.Client
}

// OpenBucketURL implements blob.BucketURLOpener.
func (o *URLOpener) OpenBucketURL(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	c, err := newClient(u, o.HTTPClient)
	if err != nil {
		return nil, err
	}
	return blob.NewBucket(&bucket{c: c}), nil
}

// Client is the WebDAV client behind a location, reachable with
// Location.Bucket().As(&c) for a c of type *Client.
type Client struct {
	base   *url.URL // http(s)://host/path/ (always ends in "/")
	hc     *http.Client
	auth   func(*http.Request)
	dirsMu sync.Mutex
	dirs   map[string]bool // collections known to exist
	server atomic.Int32    // serverUnknown, serverStd or serverXrd
}

// Kinds of server (some need work-arounds).
const (
	serverUnknown int32 = iota // no answer seen yet
	serverStd                  // follows RFC 9110 on ranges and chunked bodies
	serverXrd                  // XrdHttp (Server: XrootD/...)
)

// checkKey refuses keys the server would store under another name:
// XrdHttp (5.5) cuts a name at a '?' even when it is escaped as %3F.
func (c *Client) checkKey(ctx context.Context, key string) error {
	if !strings.Contains(key, "?") {
		return nil
	}
	if c.server.Load() == serverUnknown {
		if resp, err := c.do(ctx, http.MethodOptions, "", nil, nil); err == nil {
			drain(resp)
		}
	}
	if c.server.Load() == serverXrd {
		return fmt.Errorf("webdav: key %q: XrdHttp cannot store '?' in names: %w", key, storage.ErrInvalid)
	}
	return nil
}

// rangesOK reports whether the server is known to handle open and
// overlong Range requests as RFC 9110 says.
func (c *Client) rangesOK() bool { return c.server.Load() == serverStd }

func (c *Client) noteServer(resp *http.Response) {
	if c.server.Load() != serverUnknown {
		return
	}
	if strings.HasPrefix(strings.ToLower(resp.Header.Get("Server")), "xrootd") {
		c.server.Store(serverXrd)
	} else {
		c.server.Store(serverStd)
	}
}

func newClient(u *url.URL, hc *http.Client) (*Client, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("webdav: URL %s: %s: %w", redact(u), fmt.Sprintf(format, args...), storage.ErrInvalid)
	}
	base := &url.URL{Host: u.Host, Path: u.Path}
	switch u.Scheme {
	case Scheme:
		base.Scheme = "http"
	case SchemeTLS:
		base.Scheme = "https"
	default:
		return nil, invalid("scheme %q is not %s or %s", u.Scheme, Scheme, SchemeTLS)
	}
	if u.Host == "" {
		return nil, invalid("no host")
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	q := u.Query()
	var caFile, token string
	var timeout time.Duration
	for k, v := range q {
		switch k {
		case "token":
			token = v[0]
		case "ca":
			caFile = v[0]
		case "timeout":
			d, err := time.ParseDuration(v[0])
			if err != nil || d <= 0 {
				return nil, invalid("timeout %q", v[0])
			}
			timeout = d
		default:
			return nil, invalid("unknown parameter %q", k)
		}
	}
	c := &Client{base: base, dirs: map[string]bool{}}
	// Credentials: the URL's, else the environment's; basic or bearer, not both.
	user, pass, hasBasic := "", "", false
	if u.User != nil {
		user, hasBasic = u.User.Username(), true
		pass, _ = u.User.Password()
	}
	if !hasBasic && token == "" {
		if v := os.Getenv(EnvUser); v != "" {
			user, pass, hasBasic = v, os.Getenv(EnvPassword), true
		}
		token = os.Getenv(EnvToken)
	}
	switch {
	case hasBasic && token != "":
		return nil, invalid("both basic credentials and a bearer token")
	case hasBasic:
		c.auth = func(r *http.Request) { r.SetBasicAuth(user, pass) }
	case token != "":
		c.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	default:
		c.auth = func(*http.Request) {}
	}
	if hc != nil {
		c.hc = hc
		return c, nil
	}
	if timeout == 0 {
		timeout = time.Minute
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		// Larger socket buffers than the 4 KiB default: fewer syscalls on
		// big PUT and GET bodies.
		WriteBufferSize: 256 << 10,
		ReadBufferSize:  256 << 10,
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, invalid("ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, invalid("ca %s: no certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	c.hc = &http.Client{
		Transport: tr,
		// Never follow redirects: a 301 to "dir/" means a collection, and
		// credentials must not leak to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("xxxxx")
	}
	if q := c.Query(); q.Has("token") {
		q.Set("token", "xxxxx")
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// urlOf returns the absolute URL of key ("" is the base collection; a key
// ending in "/" is a collection).
func (c *Client) urlOf(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + strings.Join(segs, "/")
}

// destination is the Destination header of a MOVE or COPY to key: its
// escaped URL, except for XrdHttp (5.5), which takes the header's path
// literally (a "%20" would become part of the name).
func (c *Client) destination(key string) string {
	if c.server.Load() == serverXrd {
		return c.base.Scheme + "://" + c.base.Host + c.base.Path + key
	}
	return c.urlOf(key)
}

// do sends one request; body may be nil. Any status is returned as a
// response (the caller checks it); transport failures become connError and
// a done ctx its own error.
func (c *Client) do(ctx context.Context, method, key string, body io.Reader, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.urlOf(key), body)
	if err != nil {
		return nil, fmt.Errorf("webdav: %s %q: %w (%w)", method, key, storage.ErrInvalid, err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if method != http.MethodPut && method != http.MethodPost {
		// Every other method used here is idempotent: let the transport
		// resend it on a fresh connection when a kept-alive one turns out
		// closed by the server (a nil value is not sent).
		req.Header["X-Idempotency-Key"] = nil
	}
	c.auth(req)
	resp, err := c.hc.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, &connError{op: method, key: key, err: err}
	}
	c.noteServer(resp)
	return resp, nil
}

// statusErr drains and closes resp and returns a *StatusError for it.
func statusErr(resp *http.Response, method, key string) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return &StatusError{Method: method, Key: key, Code: resp.StatusCode, Body: string(b)}
}

// drain reads (a bounded amount of) the body and closes it so the
// connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 256<<10))
	resp.Body.Close()
}

// simple sends a body-less request and accepts the listed statuses.
func (c *Client) simple(ctx context.Context, method, key string, hdr map[string]string, ok ...int) (int, error) {
	resp, err := c.do(ctx, method, key, nil, hdr)
	if err != nil {
		return 0, err
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			drain(resp)
			return s, nil
		}
	}
	return resp.StatusCode, statusErr(resp, method, key)
}

// mkdirs makes sure the collections above key exist (MKCOL, deepest first;
// a 409 Conflict means a parent is missing too).
func (c *Client) mkdirs(ctx context.Context, key string) error {
	i := strings.LastIndex(key, "/")
	if i < 0 {
		return nil
	}
	return c.mkcol(ctx, key[:i+1])
}

func (c *Client) mkcol(ctx context.Context, dir string) error {
	c.dirsMu.Lock()
	known := c.dirs[dir]
	c.dirsMu.Unlock()
	if known {
		return nil
	}
	for attempt := 0; ; attempt++ {
		code, err := c.simple(ctx, "MKCOL", dir, nil, http.StatusCreated, http.StatusOK, http.StatusNoContent, http.StatusMethodNotAllowed)
		if err != nil && (code == http.StatusConflict || code == http.StatusNotFound) && attempt == 0 {
			// A missing parent: make it, then retry this level.
			if perr := c.mkdirs(ctx, strings.TrimSuffix(dir, "/")); perr != nil {
				return perr
			}
			continue
		}
		if err != nil {
			return err
		}
		break
	}
	c.dirsMu.Lock()
	if len(c.dirs) > 10000 {
		clear(c.dirs)
	}
	c.dirs[dir] = true
	c.dirsMu.Unlock()
	return nil
}

// forgetDirs drops the collections cache (after a 409 Conflict on a PUT: a
// collection was removed behind our back).
func (c *Client) forgetDirs() {
	c.dirsMu.Lock()
	clear(c.dirs)
	c.dirsMu.Unlock()
}

// move renames src to dst on the server (MOVE, Overwrite: T).
func (c *Client) move(ctx context.Context, dst, src string) error {
	_, err := c.simple(ctx, "MOVE", src, map[string]string{"Destination": c.destination(dst), "Overwrite": "T"},
		http.StatusCreated, http.StatusNoContent, http.StatusOK)
	return err
}

// remove deletes key; a missing key is reported as a StatusError 404.
func (c *Client) remove(ctx context.Context, key string) error {
	_, err := c.simple(ctx, http.MethodDelete, key, nil, http.StatusNoContent, http.StatusOK, http.StatusAccepted)
	return err
}

// RemoveAll deletes the collection dir (relative to the location; "" is
// refused) and everything under it. Servers whose DELETE of a collection is
// not recursive (XrdHttp: "directory not empty") get its members deleted
// first, depth-first. A missing collection is not an error. Garbage
// collection never needs this (it deletes keys); tests and tools do.
func (c *Client) RemoveAll(ctx context.Context, dir string) error {
	dir = strings.Trim(dir, "/")
	if dir == "" {
		return fmt.Errorf("webdav: remove all of the location's root: %w", storage.ErrInvalid)
	}
	dir += "/"
	_, err := c.simple(ctx, http.MethodDelete, dir, nil, http.StatusNoContent, http.StatusOK, http.StatusAccepted)
	if err == nil || errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	ents, lerr := c.entries(ctx, dir)
	if lerr != nil {
		return errors.Join(err, lerr)
	}
	for _, e := range ents {
		if e.isDir {
			err = c.RemoveAll(ctx, dir+e.name)
		} else {
			err = c.remove(ctx, dir+e.name)
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	_, err = c.simple(ctx, http.MethodDelete, dir, nil, http.StatusNoContent, http.StatusOK, http.StatusAccepted, http.StatusNotFound)
	return err
}

// bucket is the gocloud driver.
type bucket struct {
	c *Client
}

var _ driver.Bucket = (*bucket)(nil)

func (b *bucket) ErrorCode(err error) gcerrors.ErrorCode {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return gcerrors.NotFound
	case errors.Is(err, storage.ErrInvalid):
		return gcerrors.InvalidArgument
	case errors.Is(err, storage.ErrUnsupported):
		return gcerrors.Unimplemented
	case errors.Is(err, storage.ErrInsufficientStorage):
		return gcerrors.ResourceExhausted
	case errors.Is(err, ErrAuth):
		return gcerrors.PermissionDenied
	case errors.Is(err, ErrLocked):
		return gcerrors.FailedPrecondition
	case errors.Is(err, ErrServer), errors.Is(err, ErrConnection):
		return gcerrors.Internal
	case errors.Is(err, context.Canceled):
		return gcerrors.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return gcerrors.DeadlineExceeded
	}
	return gcerrors.Unknown
}

func (b *bucket) As(i any) bool {
	p, ok := i.(**Client)
	if !ok {
		return false
	}
	*p = b.c
	return true
}

func (b *bucket) ErrorAs(err error, i any) bool {
	return errors.As(err, i)
}

func (b *bucket) Close() error {
	if t, ok := b.c.hc.Transport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	return nil
}

func (b *bucket) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", fmt.Errorf("webdav: signed URLs: %w", storage.ErrUnsupported)
}

func (b *bucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	if opts.BeforeDelete != nil {
		if err := opts.BeforeDelete(func(any) bool { return false }); err != nil {
			return err
		}
	}
	// DELETE of a collection removes everything under it: make sure key is
	// an object first.
	if err := b.c.checkKey(ctx, key); err != nil {
		return err
	}
	if _, err := b.c.stat(ctx, key); err != nil {
		return err
	}
	return b.c.remove(ctx, key)
}

func (b *bucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	if err := b.c.checkKey(ctx, key); err != nil {
		return nil, err
	}
	info, err := b.c.stat(ctx, key)
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{
		ContentType: info.contentType,
		ModTime:     info.modTime,
		Size:        info.size,
		ETag:        info.etag,
		AsFunc:      func(any) bool { return false },
	}, nil
}

// Copy copies srcKey to dstKey server-side (COPY to a temporary name, then
// MOVE into place, so dstKey never shows a partial copy). Servers without
// COPY (405, 501) get the bytes streamed through this process.
func (b *bucket) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	if opts.BeforeCopy != nil {
		if err := opts.BeforeCopy(func(any) bool { return false }); err != nil {
			return err
		}
	}
	if err := errors.Join(b.c.checkKey(ctx, dstKey), b.c.checkKey(ctx, srcKey)); err != nil {
		return err
	}
	src, err := b.c.stat(ctx, srcKey)
	if err != nil {
		return err
	}
	if err := b.c.mkdirs(ctx, dstKey); err != nil {
		return err
	}
	tmp := tempKey(dstKey)
	code, err := b.c.simple(ctx, "COPY", srcKey, map[string]string{"Destination": b.c.destination(tmp), "Overwrite": "T", "Depth": "0"},
		http.StatusCreated, http.StatusNoContent, http.StatusOK)
	if errors.Is(err, storage.ErrUnsupported) || errors.Is(err, ErrServer) || code == http.StatusBadRequest {
		// No (local) COPY on this server (XrdHttp without its TPC plugin).
		b.c.cleanup(ctx, tmp, false)
		return b.streamCopy(ctx, dstKey, srcKey, src.contentType)
	}
	if err == nil {
		err = b.c.move(ctx, dstKey, tmp)
	}
	if err != nil {
		b.c.cleanup(ctx, tmp, false)
		return err
	}
	return nil
}

func (b *bucket) streamCopy(ctx context.Context, dstKey, srcKey, contentType string) error {
	r, err := b.NewRangeReader(ctx, srcKey, 0, -1, &driver.ReaderOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.NewTypedWriter(wctx, dstKey, contentType, &driver.WriterOptions{})
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		_ = w.Close()
		return err
	}
	return w.Close()
}
