package fileshttp

import (
	"io"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/repokit/repokit/internal/otelx"
)

var telemetry = otelx.NewScope("github.com/repokit/repokit/files/fileshttp", "http.server.request.duration",
	"Duration of Files REST API requests")

// Instrument wraps h (the Files REST API handler, wherever mounted) so that
// every request runs in an OpenTelemetry server span "<METHOD> <route>"
// and records http.server.request.duration plus the bytes transferred in
// http.server.request.body.size and http.server.response.body.size, with
// the HTTP semantic conventions' attributes, through the global providers
// (no-op unless the host installs an SDK). route is the low-cardinality
// route the handler is mounted at (for example "/api/records/{id}/files").
func Instrument(h http.Handler, route string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attrs := []attribute.KeyValue{
			attribute.String("http.request.method", r.Method),
			attribute.String("http.route", route),
		}
		ctx, o := telemetry.Start(r.Context(), r.Method+" "+route, trace.SpanKindServer, attrs...)
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		var in *countingBody
		if r.Body != nil && r.Body != http.NoBody {
			in = &countingBody{ReadCloser: r.Body}
			r.Body = in
		}
		h.ServeHTTP(cw, r.WithContext(ctx))
		status := attribute.Int("http.response.status_code", cw.status)
		o.Set(status)
		var err error
		if cw.status >= 500 {
			err = httpStatusError(cw.status)
		}
		o.End(ctx, err)
		m := telemetry.Meter()
		mattrs := metric.WithAttributes(append(attrs, status)...)
		if c, e := m.Int64Histogram("http.server.response.body.size", metric.WithUnit("By")); e == nil {
			c.Record(ctx, cw.n, mattrs)
		}
		if in != nil {
			if c, e := m.Int64Histogram("http.server.request.body.size", metric.WithUnit("By")); e == nil {
				c.Record(ctx, in.n, mattrs)
			}
		}
	})
}

type httpStatusError int

func (e httpStatusError) Error() string { return http.StatusText(int(e)) }

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
	wrote  bool
}

func (w *countingWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// ReadFrom hands a body copied with io.Copy (http.ServeContent's, of an
// *os.File for file:// objects) to the underlying writer's ReadFrom, so
// that it still goes out with sendfile; without it io.Copy would see only
// Write and copy the file through user space.
func (w *countingWriter) ReadFrom(r io.Reader) (n int64, err error) {
	w.wrote = true
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.n += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer
// (flushing, deadlines).
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}
