package osfake

import (
	"bytes"
	"net/http"
)

// recorder keeps a copy of a response for Requests.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

func (s *Server) recorded(i int, rw *recorder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < len(s.requests) {
		s.requests[i].Status = rw.status
		s.requests[i].Response = rw.buf.Bytes()
	}
}
