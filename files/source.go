package files

import (
	"fmt"
	"io"
)

// sourceReader wraps an upload stream so that its io.ErrUnexpectedEOF (what
// net/http returns when a client hangs up in the middle of a body) reaches
// storage as an error instead of being mistaken for a clean end of stream
// by io.ReadFull-based copy loops.
type sourceReader struct{ r io.Reader }

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("files: upload stream cut: %w", io.ErrUnexpectedEOF)
	}
	return n, err
}

// WriteTo is deliberately not implemented: storage reads in chunks.
var _ io.Reader = sourceReader{}
