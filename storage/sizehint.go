package storage

import "context"

type expectedSizeKey struct{}

// ExpectedSize returns the size announced for the write running under ctx
// (WriteOptions.ExpectedSize, exactly what Write will deliver or fail), or
// UnknownSize. Drivers read it from the context their NewTypedWriter gets
// when they need the size up front (webdav: a Content-Length instead of a
// chunked upload, which XrdHttp 5.5 decodes unreliably).
func ExpectedSize(ctx context.Context) int64 {
	if n, ok := ctx.Value(expectedSizeKey{}).(int64); ok {
		return n
	}
	return UnknownSize
}

func withExpectedSize(ctx context.Context, n int64) context.Context {
	if n < 0 {
		return ctx
	}
	return context.WithValue(ctx, expectedSizeKey{}, n)
}
