package webdav

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gocloud.dev/blob/driver"

	"github.com/repokit/repokit/storage"
)

// tempKey is the name an upload to key streams into before it is moved into
// place: next to key (so MOVE is a rename within one collection), unique,
// and visible to List so that garbage collection removes it if a crash
// leaves it behind.
func tempKey(key string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return key + "." + hex.EncodeToString(b[:]) + ".tmp"
}

// cleanupTimeout bounds the removal of a temporary upload after a failure.
const cleanupTimeout = 30 * time.Second

// cleanup removes the temporary upload tmp, even when ctx is done. cut says
// the PUT was interrupted by this side, so the server may still be handling
// it: a 423 (x/net/webdav locks the name for the PUT's duration) or 5xx is
// retried, and a name not there yet is looked for again a few times.
func (c *Client) cleanup(ctx context.Context, tmp string, cut bool) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	missing, busy := 0, 0
	for d := 10 * time.Millisecond; ; d = min(2*d, time.Second) {
		err := c.remove(cctx, tmp)
		switch {
		case err == nil:
			return
		case errors.Is(err, storage.ErrNotFound):
			// ~1.3 s for a handler that has not created the name yet.
			if missing++; !cut || missing > 6 {
				return
			}
		case errors.Is(err, storage.ErrUnavailable):
			if busy++; busy > 8 { // ~4s: the server is down, GC will do it
				return
			}
		default:
			return
		}
		select {
		case <-time.After(d):
		case <-cctx.Done():
			return
		}
	}
}

// writer streams one upload: a single PUT to a temporary name fed by a pipe
// (memory stays constant whatever the size), then MOVE onto the key. The PUT
// carries a Content-Length when storage announced the size
// (storage.ExpectedSize), else it is chunked; for XrdHttp, whose chunked
// decoding is unreliable (5.5: "Invalid chunked encoding" on a fraction of
// uploads), an upload of unknown size is spooled to a temporary file first.
type writer struct {
	ctx   context.Context
	c     *Client
	key   string
	tmp   string
	ct    string
	pw    *io.PipeWriter // streaming mode
	spool *os.File       // spooling mode
	done  chan struct{}
	err   error // outcome of the PUT; read after done is closed
	sent  bool  // the server answered the PUT (it is not still running)
}

func (b *bucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.IfNotExist {
		return nil, fmt.Errorf("webdav: conditional writes: %w", storage.ErrUnsupported)
	}
	if err := b.c.checkKey(ctx, key); err != nil {
		return nil, err
	}
	if err := b.c.mkdirs(ctx, key); err != nil {
		return nil, err
	}
	if opts.BeforeWrite != nil {
		if err := opts.BeforeWrite(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	w := &writer{ctx: ctx, c: b.c, key: key, tmp: tempKey(key), ct: contentType, done: make(chan struct{})}
	size := storage.ExpectedSize(ctx)
	if size < 0 && b.c.server.Load() == serverXrd {
		f, err := os.CreateTemp("", "repokit-webdav-*.spool")
		if err != nil {
			return nil, fmt.Errorf("webdav: PUT %q: spool: %w", key, err)
		}
		_ = os.Remove(f.Name()) // unlinked: gone with the descriptor
		w.spool = f
		return w, nil
	}
	pr, pw := io.Pipe()
	w.pw = pw
	var sent atomic.Int64
	body := func() io.ReadCloser { return &putBody{pr: pr, n: &sent} }
	rewind := func() (io.ReadCloser, error) {
		if sent.Load() > 0 {
			return nil, errors.New("webdav: PUT body already partly sent")
		}
		return body(), nil
	}
	req, err := w.request(body(), rewind, size)
	if err != nil {
		return nil, err
	}
	go w.put(req, pr)
	return w, nil
}

// request builds the PUT of the temporary name. length < 0: chunked.
// rewind lets the transport resend it on a fresh connection when a
// kept-alive one was closed by the server (XrdHttp closes after every error
// answer) as long as no body byte has gone out.
func (w *writer) request(body io.ReadCloser, rewind func() (io.ReadCloser, error), length int64) (*http.Request, error) {
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPut, w.c.urlOf(w.tmp), body)
	if err != nil {
		return nil, fmt.Errorf("webdav: PUT %q: %w (%w)", w.key, storage.ErrInvalid, err)
	}
	req.ContentLength = length
	if length == 0 {
		req.Body = http.NoBody
	}
	req.GetBody = rewind
	req.Header["X-Idempotency-Key"] = nil
	// Send the body only once the server accepts the request: it can refuse
	// (401, 507) before any byte travels, and XrdHttp 5.5 misparses a first
	// chunk that arrives together with the headers.
	if length != 0 {
		req.Header.Set("Expect", "100-continue")
	}
	if w.ct != "" {
		req.Header.Set("Content-Type", w.ct)
	}
	w.c.auth(req)
	return req, nil
}

// putBody reads the upload pipe and counts what the transport took. Close
// does nothing: the pipe is closed by put once the round trip is over.
type putBody struct {
	pr *io.PipeReader
	n  *atomic.Int64
}

func (b *putBody) Read(p []byte) (int, error) {
	n, err := b.pr.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *putBody) Close() error { return nil }

func (w *writer) put(req *http.Request, pr *io.PipeReader) {
	defer close(w.done)
	resp, err := w.c.hc.Do(req)
	if err == nil {
		w.c.noteServer(resp)
	}
	switch {
	case err != nil && w.ctx.Err() != nil:
		w.err = w.ctx.Err()
	case err != nil:
		w.err = &connError{op: http.MethodPut, key: w.key, err: err}
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusNoContent:
		w.sent = true
		drain(resp)
	default:
		w.sent = true
		if resp.StatusCode == http.StatusConflict {
			w.c.forgetDirs()
		}
		w.err = statusErr(resp, http.MethodPut, w.key)
	}
	// Unblock a Write waiting on the pipe with the real cause.
	if pr == nil {
		return
	}
	if w.err != nil {
		pr.CloseWithError(w.err)
	} else {
		pr.CloseWithError(io.ErrClosedPipe)
	}
}

func (w *writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if w.spool != nil {
		return w.spool.Write(p)
	}
	n, err := w.pw.Write(p)
	if err != nil {
		<-w.done
		if w.err != nil {
			return n, w.err
		}
		if cerr := w.ctx.Err(); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

// Close finishes the PUT and moves the upload into place. If ctx was
// cancelled (storage.Location.Write does so on any failed check) or the
// PUT failed, the temporary upload is removed and nothing appears at key.
func (w *writer) Close() error {
	if w.spool != nil {
		defer w.spool.Close()
		if err := w.ctx.Err(); err != nil {
			return err // nothing was sent
		}
		if err := w.putSpool(); err != nil {
			return err
		}
	} else {
		if err := w.ctx.Err(); err != nil {
			w.pw.CloseWithError(err)
			<-w.done
			w.c.cleanup(w.ctx, w.tmp, !w.sent)
			return err
		}
		w.pw.Close()
		<-w.done
	}
	if w.err != nil {
		w.c.cleanup(w.ctx, w.tmp, !w.sent)
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.c.cleanup(w.ctx, w.tmp, false)
		return err
	}
	if err := w.c.move(w.ctx, w.key, w.tmp); err != nil {
		w.c.cleanup(w.ctx, w.tmp, false)
		return err
	}
	return nil
}

// putSpool sends the spooled upload with its Content-Length.
func (w *writer) putSpool() error {
	size, err := w.spool.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("webdav: PUT %q: spool: %w", w.key, err)
	}
	section := func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(w.spool, 0, size)), nil }
	body, _ := section()
	req, err := w.request(body, section, size)
	if err != nil {
		return err
	}
	w.put(req, nil)
	return nil
}

// reader is one GET (with a Range header for a range).
type reader struct {
	body  io.ReadCloser
	key   string
	ctx   context.Context
	attrs driver.ReaderAttributes
	resp  *http.Response
}

func (b *bucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	empty := func() (driver.Reader, error) {
		info, err := b.c.stat(ctx, key)
		if err != nil {
			return nil, err
		}
		if length != 0 && offset < info.size {
			return nil, &StatusError{Method: http.MethodGet, Key: key, Code: http.StatusRequestedRangeNotSatisfiable}
		}
		if opts.BeforeRead != nil {
			if err := opts.BeforeRead(func(any) bool { return false }); err != nil {
				return nil, err
			}
		}
		return &reader{body: http.NoBody, key: key, ctx: ctx, attrs: driver.ReaderAttributes{
			ContentType: orOctet(info.contentType), ModTime: info.modTime, Size: info.size}}, nil
	}
	if err := b.c.checkKey(ctx, key); err != nil {
		return nil, err
	}
	if length == 0 {
		return empty()
	}
	hdr := map[string]string{}
	var info *objInfo
	if !b.c.rangesOK() {
		// XrdHttp 5.5 answers "bytes=N-" with nothing, announces ranges
		// past the end it does not send, and GET has no Last-Modified:
		// stat first, then ask for an exact, clamped range.
		var err error
		if info, err = b.c.stat(ctx, key); err != nil {
			return nil, err
		}
		if offset >= info.size {
			return empty()
		}
		if length < 0 || offset+length > info.size {
			length = info.size - offset
		}
	}
	switch {
	case length > 0:
		hdr["Range"] = fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)
	case offset > 0:
		hdr["Range"] = fmt.Sprintf("bytes=%d-", offset)
	}
	resp, err := b.c.do(ctx, http.MethodGet, key, nil, hdr)
	if err != nil {
		return nil, err
	}
	r := &reader{body: resp.Body, key: key, ctx: ctx, resp: resp}
	r.attrs.ContentType = orOctet(resp.Header.Get("Content-Type"))
	r.attrs.ModTime, _ = http.ParseTime(resp.Header.Get("Last-Modified"))
	if info != nil && r.attrs.ModTime.IsZero() {
		r.attrs.ModTime = info.modTime
	}
	switch resp.StatusCode {
	case http.StatusOK:
		r.attrs.Size = resp.ContentLength
		if r.attrs.Size < 0 {
			info, err := b.c.stat(ctx, key)
			if err != nil {
				resp.Body.Close()
				return nil, err
			}
			r.attrs.Size = info.size
		}
		// The server ignored Range: skip and cut here.
		if offset > 0 {
			if _, err := io.CopyN(io.Discard, resp.Body, min(offset, r.attrs.Size)); err != nil {
				resp.Body.Close()
				return nil, r.wrap(err)
			}
		}
		if length > 0 {
			r.body = struct {
				io.Reader
				io.Closer
			}{io.LimitReader(resp.Body, length), resp.Body}
		}
	case http.StatusPartialContent:
		r.attrs.Size = -1
		if cr := resp.Header.Get("Content-Range"); cr != "" {
			if i := strings.LastIndex(cr, "/"); i >= 0 {
				if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
					r.attrs.Size = n
				}
			}
		}
		if r.attrs.Size < 0 {
			info, err := b.c.stat(ctx, key)
			if err != nil {
				resp.Body.Close()
				return nil, err
			}
			r.attrs.Size = info.size
		}
	case http.StatusRequestedRangeNotSatisfiable:
		drain(resp)
		// A range starting at or past the end reads nothing (as fileblob).
		return empty()
	default:
		return nil, statusErr(resp, http.MethodGet, key)
	}
	if opts.BeforeRead != nil {
		if err := opts.BeforeRead(r.As); err != nil {
			r.body.Close()
			return nil, err
		}
	}
	return r, nil
}

func orOctet(ct string) string {
	if ct == "" {
		return "application/octet-stream"
	}
	return ct
}

func (r *reader) wrap(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if cerr := r.ctx.Err(); cerr != nil {
		return cerr
	}
	return &connError{op: http.MethodGet, key: r.key, err: err}
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	return n, r.wrap(err)
}

func (r *reader) Close() error { return r.body.Close() }

func (r *reader) Attributes() *driver.ReaderAttributes { return &r.attrs }

// As exposes the GET's *http.Response (nil for an empty range).
func (r *reader) As(i any) bool {
	p, ok := i.(**http.Response)
	if !ok {
		return false
	}
	*p = r.resp
	return true
}
