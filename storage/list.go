package storage

import (
	"context"
	"io"
	"iter"

	"gocloud.dev/blob"
)

// List iterates over every object whose key starts with prefix ("" for all),
// in lexical key order where the driver guarantees it, paging through the
// driver so memory stays constant. Garbage collection compares the keys and
// mod times against its rows. ObjectInfo.ContentType and MD5 are not set.
// The iteration stops at the first error, which is yielded.
func (l *Location) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		it := l.bucket.List(&blob.ListOptions{Prefix: prefix})
		for {
			o, err := it.Next(ctx)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(ObjectInfo{}, wrapErr("list", prefix, err))
				return
			}
			if o.IsDir {
				continue
			}
			if !yield(ObjectInfo{Key: o.Key, Size: o.Size, ModTime: o.ModTime}, nil) {
				return
			}
		}
	}
}
