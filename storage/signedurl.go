package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"gocloud.dev/blob"
)

// SignedURL returns a URL granting GET access to key for ttl without further
// authorization, so a host can answer large downloads with a 302 to it.
//
//   - s3://, gs://, azblob://: the provider's presigned URL.
//   - file://: a URL under WithSignedURLBase signed with gocloud's
//     URLSignerHMAC (key, expiry and method are covered by the HMAC); the
//     host must mount Locations.SignedURLHandler (or Location's) there.
//   - mem://: ErrUnsupported.
//
// SignedURL does not check that key exists. ttl must be positive.
func (l *Location) SignedURL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("storage: signed URL %q: ttl %v: %w", key, ttl, ErrInvalid)
	}
	if l.scheme == "mem" {
		return "", fmt.Errorf("storage: signed URL %q on %s: %w", key, l.scheme, ErrUnsupported)
	}
	u, err := l.bucket.SignedURL(ctx, key, &blob.SignedURLOptions{Expiry: ttl, Method: http.MethodGet})
	if err != nil {
		return "", wrapErr("signed URL", key, err)
	}
	return u, nil
}

// SignedURLHandler serves GET and HEAD requests for URLs signed by this
// file:// location's SignedURL, whatever their path: it verifies the
// signature and expiry (tampered, expired or non-GET URLs get 403), then
// serves the object with http.ServeContent (Range, If-Modified-Since...),
// "X-Content-Type-Options: nosniff" and a CSP forbidding active content.
// For other schemes every request gets 404 (their URLs point at the provider).
func (l *Location) SignedURLHandler() http.Handler {
	return http.HandlerFunc(l.serveSigned)
}

// SignedURLHandler serves the signed URLs of every file:// location. Mount it
// where WithSignedURLBase points, stripping that prefix:
//
//	mux.Handle("/_storage/", http.StripPrefix("/_storage", locs.SignedURLHandler()))
//
// The remaining path is "/<location name>"; see Location.SignedURLHandler.
func (ls *Locations) SignedURLHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.Trim(r.URL.Path, "/")
		if i := strings.LastIndex(name, "/"); i >= 0 {
			name = name[i+1:]
		}
		l, ok := ls.byName[name]
		if !ok {
			http.Error(w, "no such location", http.StatusNotFound)
			return
		}
		l.serveSigned(w, r)
	})
}

func (l *Location) serveSigned(w http.ResponseWriter, r *http.Request) {
	if l.signer == nil {
		http.Error(w, "location does not serve signed URLs", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	key, err := l.signer.KeyFromURL(r.Context(), r.URL)
	if err != nil || r.URL.Query().Get("method") != http.MethodGet {
		http.Error(w, "invalid or expired signature", http.StatusForbidden)
		return
	}
	rd, err := l.NewReader(r.Context(), key)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		l.opts.logger.ErrorContext(r.Context(), "storage: serve signed URL", "location", l.name, "key", key, "err", err)
		http.Error(w, "storage error", http.StatusInternalServerError)
		return
	}
	defer rd.Close()
	h := w.Header()
	ct := rd.ContentType()
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private")
	http.ServeContent(w, r, "", rd.ModTime(), rd)
}
