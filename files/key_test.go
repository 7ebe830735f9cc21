package files_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/repokit/repokit/files"
)

func TestValidateKey(t *testing.T) {
	for _, k := range []string{"a", "a/b/c.txt", "日本/é", "a..b", "...", ".hidden", "a b", strings.Repeat("x", files.MaxKeyLength)} {
		if err := files.ValidateKey(k); err != nil {
			t.Errorf("%q: %v", k, err)
		}
	}
	for _, k := range []string{"", "..", "a/../b", "./a", "a/.", "a\x00b", "a\nb", "a\x7fb", "a\u0085b", "\xff", strings.Repeat("x", files.MaxKeyLength+1)} {
		if err := files.ValidateKey(k); !errors.Is(err, files.ErrInvalidKey) || !errors.Is(err, files.ErrInvalid) {
			t.Errorf("%q: %v", k, err)
		}
	}
}

// FuzzValidateKey: accepted keys are valid UTF-8 within the length limit,
// without control characters or dot segments; nothing panics.
func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"a/b", "a/../b", "..", "a\x00", "é", "a\u2028b", "/", "a//b", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		err := files.ValidateKey(k)
		if err != nil {
			if !errors.Is(err, files.ErrInvalidKey) {
				t.Fatalf("%q: error %v is not ErrInvalidKey", k, err)
			}
			return
		}
		if k == "" || len(k) > files.MaxKeyLength || !utf8.ValidString(k) {
			t.Fatalf("accepted %q", k)
		}
		for _, r := range k {
			if unicode.IsControl(r) {
				t.Fatalf("accepted control char in %q", k)
			}
		}
		for _, seg := range strings.Split(k, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("accepted dot segment in %q", k)
			}
		}
	})
}
