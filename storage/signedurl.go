package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
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
	return l.SignedURLWith(ctx, key, ttl, SignedURLOptions{})
}

// SignedURLOptions ask the storage system to answer a signed GET with
// specific response headers, as S3's response-content-* parameters do.
type SignedURLOptions struct {
	// ContentDisposition, e.g. `attachment; filename="report.pdf"`, so a
	// download offloaded with a 302 keeps its name ("data" otherwise).
	ContentDisposition string
	// ContentType served instead of the stored one.
	ContentType string
}

// Query parameters of file:// signed URLs beyond fileblob's own (obj,
// expiry, method, signature): the response overrides and their HMAC.
const (
	paramDisposition = "response-content-disposition"
	paramContentType = "response-content-type"
	paramRespSig     = "rsig"
)

// SignedURLWith is SignedURL with response header overrides: supported on
// s3:// (response-content-disposition/-type, covered by the SigV4
// signature) and file:// (covered by an extra HMAC checked by
// SignedURLHandler); gs:// and azblob:// give ErrUnsupported when an
// override is asked for.
func (l *Location) SignedURLWith(ctx context.Context, key string, ttl time.Duration, o SignedURLOptions) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("storage: signed URL %q: ttl %v: %w", key, ttl, ErrInvalid)
	}
	if l.scheme == "mem" {
		return "", fmt.Errorf("storage: signed URL %q on %s: %w", key, l.scheme, ErrUnsupported)
	}
	overrides := o.ContentDisposition != "" || o.ContentType != ""
	bo := &blob.SignedURLOptions{Expiry: ttl, Method: http.MethodGet}
	switch {
	case overrides && l.native != nil:
		bo.BeforeSign = l.native.BeforeSign(o)
	case overrides && l.signer == nil:
		return "", fmt.Errorf("storage: signed URL %q: response overrides on %s: %w", key, l.scheme, ErrUnsupported)
	}
	u, err := l.bucket.SignedURL(ctx, key, bo)
	if err != nil {
		return "", wrapErr("signed URL", key, err)
	}
	if overrides && l.signer != nil {
		pu, err := url.Parse(u)
		if err != nil {
			return "", err
		}
		q := pu.Query()
		if o.ContentDisposition != "" {
			q.Set(paramDisposition, o.ContentDisposition)
		}
		if o.ContentType != "" {
			q.Set(paramContentType, o.ContentType)
		}
		q.Set(paramRespSig, l.respSig(q))
		pu.RawQuery = q.Encode()
		u = pu.String()
	}
	return u, nil
}

// respSig binds the response overrides to fileblob's signature (which covers
// key, expiry and method).
func (l *Location) respSig(q url.Values) string {
	m := hmac.New(sha256.New, l.signKey)
	m.Write([]byte(q.Get("signature") + "\x00" + q.Get(paramDisposition) + "\x00" + q.Get(paramContentType)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// SignedURLHandler serves GET and HEAD requests for URLs signed by this
// file:// location's SignedURL, whatever their path: it verifies the
// signature and expiry (tampered, expired or non-GET URLs get 403), then
// serves the object with http.ServeContent (Range, If-Modified-Since...),
// "X-Content-Type-Options: nosniff" and a CSP forbidding active content.
// Stored types that could carry active content (HTML, SVG, ...) are served
// as an application/octet-stream attachment unless the URL was signed with
// explicit overrides (SignedURLWith).
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
	q := r.URL.Query()
	if err != nil || q.Get("method") != http.MethodGet {
		http.Error(w, "invalid or expired signature", http.StatusForbidden)
		return
	}
	// A prefix= location signs the full key; its bucket adds the prefix back.
	key, ok := strings.CutPrefix(key, l.prefix)
	if !ok {
		http.Error(w, "invalid or expired signature", http.StatusForbidden)
		return
	}
	disp, ctype := q.Get(paramDisposition), q.Get(paramContentType)
	if (disp != "" || ctype != "" || q.Has(paramRespSig)) && !hmac.Equal([]byte(q.Get(paramRespSig)), []byte(l.respSig(q))) {
		http.Error(w, "invalid signature of the response overrides", http.StatusForbidden)
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
	// An explicit (signed) override is trusted; a stored or sniffed type is
	// served inline only when it cannot carry active content.
	ct := ctype
	if ct == "" {
		ct = rd.ContentType()
		if !inlineSafe(ct) {
			ct = "application/octet-stream"
			if disp == "" {
				disp = "attachment"
			}
		}
	}
	if disp != "" {
		h.Set("Content-Disposition", disp)
	}
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private")
	http.ServeContent(w, r, "", rd.ModTime(), rd)
}

// inlineSafe reports whether a stored content type may be served inline:
// types browsers render without running scripts.
func inlineSafe(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "text/plain", "application/pdf", "application/json", "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif":
		return true
	}
	return strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/")
}
