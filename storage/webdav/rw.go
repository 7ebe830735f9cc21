package webdav

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
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
			if missing++; !cut || missing > 4 {
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

// writer streams one upload: a single chunked PUT to a temporary name fed by
// a pipe (memory stays constant whatever the size), then MOVE onto the key.
type writer struct {
	ctx  context.Context
	c    *Client
	key  string
	tmp  string
	pw   *io.PipeWriter
	done chan struct{}
	err  error // outcome of the PUT; read after done is closed
	sent bool  // the server answered the PUT (it is not still running)
}

func (b *bucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.IfNotExist {
		return nil, fmt.Errorf("webdav: conditional writes: %w", storage.ErrUnsupported)
	}
	if err := b.c.mkdirs(ctx, key); err != nil {
		return nil, err
	}
	if opts.BeforeWrite != nil {
		if err := opts.BeforeWrite(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	pr, pw := io.Pipe()
	w := &writer{ctx: ctx, c: b.c, key: key, tmp: tempKey(key), pw: pw, done: make(chan struct{})}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, b.c.urlOf(w.tmp), pr)
	if err != nil {
		return nil, fmt.Errorf("webdav: PUT %q: %w (%w)", key, storage.ErrInvalid, err)
	}
	req.ContentLength = -1 // chunked: the size is not known up front
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	b.c.auth(req)
	go w.put(req, pr)
	return w, nil
}

func (w *writer) put(req *http.Request, pr *io.PipeReader) {
	defer close(w.done)
	resp, err := w.c.hc.Do(req)
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
	if w.err != nil {
		pr.CloseWithError(w.err)
	} else {
		pr.CloseWithError(io.ErrClosedPipe)
	}
}

func (w *writer) Write(p []byte) (int, error) {
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
	if err := w.ctx.Err(); err != nil {
		w.pw.CloseWithError(err)
		<-w.done
		w.c.cleanup(w.ctx, w.tmp, !w.sent)
		return err
	}
	w.pw.Close()
	<-w.done
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
	if length == 0 {
		return empty()
	}
	hdr := map[string]string{}
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
