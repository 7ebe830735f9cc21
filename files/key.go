package files

import (
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeKey returns key in Unicode Normalization Form C (NFC). Every
// method of Store that takes an object key (or a List prefix) normalizes it
// first, so the composed and decomposed spellings of a name ("é" as U+00E9
// or as "e" + U+0301, as macOS file systems and some clients send it) are
// the same key, stored and listed in NFC. Nothing else is folded: case,
// width and compatibility forms (NFKC) stay distinct keys.
func NormalizeKey(key string) string {
	if norm.NFC.IsNormalString(key) {
		return key
	}
	return norm.NFC.String(key)
}

// MaxKeyLength is the longest object key accepted, in bytes.
const MaxKeyLength = 1024

// ValidateKey checks an object key: 1 to MaxKeyLength bytes of valid UTF-8,
// no control characters (C0, DEL, C1, NUL included), no "." or ".." path
// segments. It returns an error matching ErrInvalidKey.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return userf(ErrInvalidKey, "empty")
	case len(key) > MaxKeyLength:
		return userf(ErrInvalidKey, "%d bytes, longer than %d", len(key), MaxKeyLength)
	case !utf8.ValidString(key):
		return userf(ErrInvalidKey, "not valid UTF-8")
	}
	for _, r := range key {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return userf(ErrInvalidKey, "control character %U", r)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." || seg == "." {
			return userf(ErrInvalidKey, "%q segment", seg)
		}
	}
	return nil
}

// MimetypeOf guesses a key's media type from its extension
// ("application/octet-stream" when unknown).
func MimetypeOf(key string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(key))); t != "" {
		return t
	}
	return "application/octet-stream"
}

// prefixEnd returns the smallest valid UTF-8 string greater than every
// string starting with p ("" when there is none), for range scans over keys
// (UTF-8 byte order is code point order).
func prefixEnd(p string) string {
	rs := []rune(p)
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i] + 1
		if r >= 0xD800 && r <= 0xDFFF {
			r = 0xE000
		}
		if r <= unicode.MaxRune {
			rs[i] = r
			return string(rs[:i+1])
		}
	}
	return ""
}
