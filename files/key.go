package files

import (
	"fmt"
	"mime"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxKeyLength is the longest object key accepted, in bytes.
const MaxKeyLength = 1024

// ValidateKey checks an object key: 1 to MaxKeyLength bytes of valid UTF-8,
// no control characters (C0, DEL, C1, NUL included), no "." or ".." path
// segments. It returns an error matching ErrInvalidKey.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLength:
		return fmt.Errorf("%w: %d bytes, longer than %d", ErrInvalidKey, len(key), MaxKeyLength)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidKey)
	}
	for _, r := range key {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("%w: control character %U", ErrInvalidKey, r)
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." || seg == "." {
			return fmt.Errorf("%w: %q segment", ErrInvalidKey, seg)
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
