package fileshttp

import (
	"mime"
	"net/http"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/repokit/repokit/files"
)

// safetyHeadersRef is how Content-Type and Content-Disposition were chosen
// with package mime on every request; objectHeaders must agree with it.
func safetyHeadersRef(h *Handler, mt, key string, download bool) (ct, cd string) {
	inlineTypes := map[string]bool{}
	for t := range h.inline {
		inlineTypes[t] = true
	}
	base, params, err := mime.ParseMediaType(mt)
	inline := err == nil && inlineTypes[base]
	ct = "application/octet-stream"
	if inline {
		ct = mime.FormatMediaType(base, params)
		if strings.HasPrefix(base, "text/") && params["charset"] == "" {
			ct = mime.FormatMediaType(base, map[string]string{"charset": "utf-8"})
		}
	}
	disposition := "inline"
	if !inline || download {
		disposition = "attachment"
	}
	if cd = mime.FormatMediaType(disposition, map[string]string{"filename": path.Base(key)}); cd == "" {
		cd = disposition
	}
	return ct, cd
}

func checkObjectHeaders(t *testing.T, h *Handler, mt, key string) {
	t.Helper()
	for _, download := range []bool{false, true} {
		o := &files.Object{Key: key, VersionID: "v", Mimetype: mt, Created: time.Now(),
			File: &files.FileInstance{MD5: "md5:abc", SHA256: "sha256:def"}}
		hd := http.Header{}
		h.objectHeaders(hd, o, download)
		ct, cd := safetyHeadersRef(h, mt, key, download)
		if hd.Get("Content-Type") != ct || hd.Get("Content-Disposition") != cd {
			t.Fatalf("%q %q download=%v: Content-Type %q, Content-Disposition %q; want %q, %q",
				mt, key, download, hd.Get("Content-Type"), hd.Get("Content-Disposition"), ct, cd)
		}
		want := map[string]string{"ETag": `"md5:abc"`, "X-Version-Id": "v", "X-Checksum-SHA256": "def",
			"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'",
			"X-Frame-Options": "deny", "Cache-Control": "private, max-age=0, must-revalidate"}
		for k, v := range want {
			if got := hd.Values(k); len(got) != 1 || got[0] != v {
				t.Fatalf("%s = %q, want %q", k, got, v)
			}
		}
		if len(hd) != len(want)+2 {
			t.Fatalf("%d headers: %v", len(hd), hd)
		}
		// Each value is its own slice: appending to one leaves the others.
		hd.Add("ETag", "x")
		if hd.Get("X-Version-Id") != "v" {
			t.Fatalf("appending to ETag changed X-Version-Id: %v", hd)
		}
	}
}

// TestObjectHeaders: the fast paths (plain lowercase media types, token
// file names) answer what package mime does.
func TestObjectHeaders(t *testing.T) {
	h := New(nil)
	custom := New(nil, WithInlineTypes("image/svg+xml", "Text/Markdown", "text/html; charset=latin1", "bogus"))
	for _, mt := range []string{"", "text/plain", "text/csv", "application/pdf", "application/json", "image/png",
		"application/octet-stream", "text/html", "image/svg+xml", "Text/Plain", "TEXT/CSV", "text/plain; charset=latin1",
		"text/plain;charset=UTF-8", "text/plain; format=flowed", "application/pdf; x=1", "text/markdown",
		"text/plain ", " text/plain", "text/", "/plain", "text", "text/plain/x", "text/pl@in", "application/x-t\x7fex",
		"video/mp4", "image/jpeg; q=\"a b\"", "text/plain; charset="} {
		for _, key := range []string{"a.txt", "dir/a b.txt", "dir/sub/", "résumé.pdf", `we"ird\name`, "x=y;z",
			"tab\there", "a(1).png", "~user's file", "Ångström"} {
			checkObjectHeaders(t, h, mt, key)
			checkObjectHeaders(t, custom, mt, key)
		}
	}
}

func FuzzObjectHeaders(f *testing.F) {
	for _, s := range []string{"text/plain", "Text/HTML; charset=x", "image/png", "a/b; c=d"} {
		f.Add(s, "dir/a b.txt")
	}
	h := New(nil)
	f.Fuzz(func(t *testing.T, mt, key string) {
		checkObjectHeaders(t, h, mt, key)
	})
}
