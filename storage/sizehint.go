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

// ContextWithExpectedSize announces the size of a write made directly on a
// location's Bucket() (Location.Write does it from WriteOptions.ExpectedSize).
func ContextWithExpectedSize(ctx context.Context, n int64) context.Context {
	return withExpectedSize(ctx, n)
}

func withExpectedSize(ctx context.Context, n int64) context.Context {
	if n < 0 {
		return ctx
	}
	return context.WithValue(ctx, expectedSizeKey{}, n)
}
