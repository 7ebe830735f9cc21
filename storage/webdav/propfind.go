package webdav

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"gocloud.dev/blob/driver"

	"github.com/repokit/repokit/storage"
)

// objInfo is what HEAD or PROPFIND tell about one resource.
type objInfo struct {
	name        string // last path segment (PROPFIND listings)
	isDir       bool
	size        int64
	modTime     time.Time
	etag        string
	contentType string
}

const propfindBody = `<?xml version="1.0" encoding="utf-8"?>` +
	`<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/>` +
	`<D:getlastmodified/><D:getetag/><D:getcontenttype/></D:prop></D:propfind>`

// stat returns key's size, time, ETag and type: from HEAD, or from PROPFIND
// Depth 0 where HEAD is refused (XrdHttp answers 405) or ambiguous. A
// collection is reported as not found (keys name objects only).
func (c *Client) stat(ctx context.Context, key string) (*objInfo, error) {
	resp, err := c.do(ctx, http.MethodHead, key, nil, nil)
	if err != nil {
		return nil, err
	}
	drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		n, perr := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
		ct := resp.Header.Get("Content-Type")
		mod, terr := http.ParseTime(resp.Header.Get("Last-Modified"))
		if perr != nil || n < 0 || terr != nil || strings.HasPrefix(ct, "httpd/unix-directory") {
			break // no length or time (XrdHttp), or a directory: ask PROPFIND
		}
		return &objInfo{size: n, modTime: mod, etag: resp.Header.Get("ETag"), contentType: ct}, nil
	case http.StatusNotFound, http.StatusGone:
		return nil, &StatusError{Method: http.MethodHead, Key: key, Code: resp.StatusCode}
	case http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusForbidden,
		http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// HEAD refused (XrdHttp, x/net/webdav on a collection) or a
		// redirect to "key/" (a collection): PROPFIND decides.
	default:
		return nil, &StatusError{Method: http.MethodHead, Key: key, Code: resp.StatusCode}
	}
	var found *objInfo
	err = c.propfind(ctx, key, "0", func(o *objInfo) error {
		if found == nil {
			found = o
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil || found.isDir {
		return nil, &StatusError{Method: "PROPFIND", Key: key, Code: http.StatusNotFound}
	}
	return found, nil
}

// multistatus response element (RFC 4918 §14.24).
type davResponse struct {
	Href     string `xml:"DAV: href"`
	Status   string `xml:"DAV: status"`
	Propstat []struct {
		Status string `xml:"DAV: status"`
		Prop   struct {
			ResourceType struct {
				Collection *struct{} `xml:"DAV: collection"`
			} `xml:"DAV: resourcetype"`
			ContentLength string `xml:"DAV: getcontentlength"`
			LastModified  string `xml:"DAV: getlastmodified"`
			ETag          string `xml:"DAV: getetag"`
			ContentType   string `xml:"DAV: getcontenttype"`
		} `xml:"DAV: prop"`
	} `xml:"DAV: propstat"`
}

// propfind sends PROPFIND with depth to key (a collection when it ends in
// "/") and calls fn for every resource of the answer, the requested one
// included, as the XML is decoded (no whole-answer buffering).
func (c *Client) propfind(ctx context.Context, key, depth string, fn func(*objInfo) error) error {
	resp, err := c.do(ctx, "PROPFIND", key, strings.NewReader(propfindBody),
		map[string]string{"Depth": depth, "Content-Type": `application/xml; charset="utf-8"`})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusMultiStatus {
		return statusErr(resp, "PROPFIND", key)
	}
	defer drain(resp)
	dec := xml.NewDecoder(resp.Body)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return fmt.Errorf("webdav: PROPFIND %q: bad multistatus: %w (%w)", key, ErrServer, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Space != "DAV:" || se.Name.Local != "response" {
			continue
		}
		var r davResponse
		if err := dec.DecodeElement(&r, &se); err != nil {
			return fmt.Errorf("webdav: PROPFIND %q: bad response element: %w (%w)", key, ErrServer, err)
		}
		o, ok := r.info()
		if !ok {
			continue
		}
		if err := fn(o); err != nil {
			return err
		}
	}
}

func statusOK(s string) bool {
	f := strings.Fields(s)
	return len(f) >= 2 && f[1] == "200"
}

func (r *davResponse) info() (*objInfo, bool) {
	p := r.Href
	if u, err := url.Parse(r.Href); err == nil {
		p = u.Path
	} else if up, err := url.PathUnescape(r.Href); err == nil {
		p = up
	}
	o := &objInfo{name: path.Base(strings.TrimSuffix(p, "/")), size: -1}
	if strings.HasSuffix(p, "/") {
		o.isDir = true
	}
	seen := false
	for _, ps := range r.Propstat {
		if ps.Status != "" && !statusOK(ps.Status) {
			continue
		}
		seen = true
		pr := ps.Prop
		if pr.ResourceType.Collection != nil {
			o.isDir = true
		}
		if v := strings.TrimSpace(pr.ContentLength); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				o.size = n
			}
		}
		if v := strings.TrimSpace(pr.LastModified); v != "" {
			if t, err := http.ParseTime(v); err == nil {
				o.modTime = t
			} else if t, err := time.Parse(time.RFC3339, v); err == nil {
				o.modTime = t
			}
		}
		if v := strings.TrimSpace(pr.ETag); v != "" {
			o.etag = v
		}
		if v := strings.TrimSpace(pr.ContentType); v != "" {
			o.contentType = v
		}
	}
	if !seen {
		return nil, false
	}
	if !o.isDir && o.size < 0 {
		o.size = 0
	}
	return o, true
}

// entries lists the direct members of collection dir ("" or ending in "/"),
// sorted so that walking them depth-first yields keys in lexical order (a
// collection sorts as its name + "/"). A missing collection is empty.
func (c *Client) entries(ctx context.Context, dir string) ([]*objInfo, error) {
	var out []*objInfo
	first := true
	err := c.propfind(ctx, dir, "1", func(o *objInfo) error {
		// The collection itself comes first (every server here); skip
		// it, and any entry that names it again.
		if first {
			first = false
			if o.isDir && (dir == "" || o.name == path.Base(strings.TrimSuffix(dir, "/"))) {
				return nil
			}
		}
		if o.name == "" || o.name == "." || o.name == "/" {
			return nil
		}
		if o.isDir {
			o.name += "/"
		}
		out = append(out, o)
		return nil
	})
	if err != nil {
		if se, ok := err.(*StatusError); ok && (se.Code == http.StatusNotFound || se.Code == http.StatusGone) {
			return nil, nil
		}
		return nil, err
	}
	slices.SortFunc(out, func(a, b *objInfo) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

const defaultPageSize = 1000

// ListPaged lists by walking collections depth-first with PROPFIND Depth 1
// (Depth infinity is disabled on most servers), in lexical key order. The
// page token is the last key returned; the next page walks again from the
// root but skips every collection wholly before the token, so a page costs
// one PROPFIND per collection it touches plus those on the path to the token.
func (b *bucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	if opts.BeforeList != nil {
		if err := opts.BeforeList(func(any) bool { return false }); err != nil {
			return nil, err
		}
	}
	if opts.Delimiter != "" && opts.Delimiter != "/" {
		return nil, fmt.Errorf("webdav: list with delimiter %q (only \"/\"): %w", opts.Delimiter, storage.ErrUnsupported)
	}
	size := opts.PageSize
	if size <= 0 {
		size = defaultPageSize
	}
	w := &walker{c: b.c, prefix: opts.Prefix, delim: opts.Delimiter != "", after: string(opts.PageToken), max: size + 1}
	dir := opts.Prefix[:strings.LastIndex(opts.Prefix, "/")+1]
	if err := w.walk(ctx, dir); err != nil && err != errPageFull {
		return nil, err
	}
	page := &driver.ListPage{Objects: w.out}
	if len(w.out) > size {
		page.Objects = w.out[:size]
		page.NextPageToken = []byte(w.out[size-1].Key)
	}
	return page, nil
}

type walker struct {
	c      *Client
	prefix string
	delim  bool
	after  string
	max    int
	out    []*driver.ListObject
}

var errPageFull = fmt.Errorf("webdav: page full")

func (w *walker) emit(o *driver.ListObject) error {
	w.out = append(w.out, o)
	if len(w.out) >= w.max {
		return errPageFull
	}
	return nil
}

func (w *walker) walk(ctx context.Context, dir string) error {
	ents, err := w.c.entries(ctx, dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		full := dir + e.name
		if !strings.HasPrefix(full, w.prefix) && !strings.HasPrefix(w.prefix, full) {
			continue
		}
		if !e.isDir {
			if full > w.after {
				if err := w.emit(&driver.ListObject{Key: full, Size: e.size, ModTime: e.modTime}); err != nil {
					return err
				}
			}
			continue
		}
		// Every key under full starts with it: skip the collection if the
		// token is past all of them.
		if w.after != "" && w.after > full && !strings.HasPrefix(w.after, full) {
			continue
		}
		if w.delim && strings.HasPrefix(full, w.prefix) {
			if full > w.after {
				if err := w.emit(&driver.ListObject{Key: full, IsDir: true}); err != nil {
					return err
				}
			}
			continue
		}
		if err := w.walk(ctx, full); err != nil {
			return err
		}
	}
	return nil
}

// Digest asks the server for key's checksum with the RFC 3230 Want-Digest
// header (XrdHttp computes it with its configured checksum plug-in) and
// returns it as "<alg>:<hex>" (md5, sha-256 → "sha256", adler32, crc32c).
// A server that offers no digest of that algorithm gives
// storage.ErrUnsupported.
func (c *Client) Digest(ctx context.Context, key, alg string) (string, error) {
	want := strings.ToLower(alg)
	if want == "sha256" {
		want = "sha-256"
	}
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		hdr := map[string]string{"Want-Digest": want}
		if method == http.MethodGet {
			hdr["Range"] = "bytes=0-0" // the digest covers the whole object
		}
		resp, err := c.do(ctx, method, key, nil, hdr)
		if err != nil {
			return "", err
		}
		drain(resp)
		switch {
		case resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented:
			continue
		case resp.StatusCode/100 != 2:
			return "", &StatusError{Method: method, Key: key, Code: resp.StatusCode}
		}
		if v, ok := parseDigest(resp.Header.Values("Digest"), want); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("webdav: digest %s of %q: server offers none: %w", alg, key, storage.ErrUnsupported)
}

// parseDigest finds alg in RFC 3230 Digest headers ("md5=<base64>,
// adler32=<hex>") and returns "<alg>:<lower hex>".
func parseDigest(values []string, alg string) (string, bool) {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			a, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || !strings.EqualFold(a, alg) {
				continue
			}
			name := strings.ReplaceAll(strings.ToLower(a), "-", "")
			switch name {
			case "md5", "sha256", "sha512", "sha":
				sizes := map[string]int{"md5": 16, "sha256": 32, "sha512": 64, "sha": 20}
				if len(val) == 2*sizes[name] {
					// Some servers send hex instead of base64.
					if _, err := hex.DecodeString(val); err == nil {
						return name + ":" + strings.ToLower(val), true
					}
				}
				raw, err := base64.StdEncoding.DecodeString(val)
				if err != nil {
					return "", false
				}
				return name + ":" + hex.EncodeToString(raw), true
			default: // adler32, crc32c: hex
				return name + ":" + strings.ToLower(val), true
			}
		}
	}
	return "", false
}
