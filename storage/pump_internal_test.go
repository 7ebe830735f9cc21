package storage

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// A source cut mid-stream reports io.ErrUnexpectedEOF; fill must pass it on
// instead of taking it for a clean end, or a truncated upload would commit.
func TestFillPassesUnexpectedEOF(t *testing.T) {
	cut := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(io.ErrUnexpectedEOF))
	n, err := fill(cut, make([]byte, 16))
	if n != 3 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("fill = %d, %v; want 3, io.ErrUnexpectedEOF", n, err)
	}
	n, err = fill(strings.NewReader("abc"), make([]byte, 16))
	if n != 3 || err != io.EOF {
		t.Fatalf("fill = %d, %v; want 3, io.EOF", n, err)
	}
	n, err = fill(iotest.OneByteReader(strings.NewReader("abcdef")), make([]byte, 4))
	if n != 4 || err != nil {
		t.Fatalf("fill = %d, %v; want 4, nil", n, err)
	}
}
