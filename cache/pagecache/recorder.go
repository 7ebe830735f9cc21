package pagecache

import "net/http"

// recorder passes a response through to the client while keeping a copy of
// its status, headers and (up to max bytes of) body.
type recorder struct {
	http.ResponseWriter
	max      int
	status   int
	header   http.Header // snapshot taken when the headers went out
	body     []byte
	overflow bool
}

func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// WriteHeader records the status and a snapshot of the headers.
func (r *recorder) WriteHeader(code int) {
	r.ResponseWriter.WriteHeader(code)
	// Snapshot after the outer writers ran: a session middleware adds its
	// Set-Cookie header there, and such a response must not be cached.
	if r.status == 0 && code >= 200 {
		r.status = code
		r.header = r.ResponseWriter.Header().Clone()
	}
}

// Write passes b on and keeps a copy while it fits the body limit.
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if !r.overflow {
		if len(r.body)+len(b) > r.max {
			r.overflow, r.body = true, nil
		} else {
			r.body = append(r.body, b...)
		}
	}
	return r.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
