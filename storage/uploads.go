package storage

import (
	"context"
	"iter"
	"time"
)

// UploadInfo describes an unfinished multipart upload found in a location.
type UploadInfo struct {
	Key       string    // the final key
	UploadID  string    // for ResumeMultipart(...).Abort
	Initiated time.Time // S3: creation; elsewhere: the oldest stored part
}

// Uploads iterates over the unfinished multipart uploads whose final key
// starts with prefix, so garbage collection can abort the ones no row knows
// about (e.g. after a crash between NewMultipart and recording it) or that
// are older than a TTL. On S3 these are S3's in-progress uploads; elsewhere,
// the uploads with at least one stored part (an upload without parts holds
// no bytes). The iteration stops at the first error, which is yielded.
func (l *Location) Uploads(ctx context.Context, prefix string) iter.Seq2[UploadInfo, error] {
	if l.native != nil {
		return l.native.Uploads(ctx, prefix)
	}
	return func(yield func(UploadInfo, error) bool) {
		var cur UploadInfo
		for o, err := range l.List(ctx, prefix) {
			if err != nil {
				yield(UploadInfo{}, err)
				return
			}
			k, id, ok := IsPartKey(o.Key)
			if !ok {
				continue
			}
			if k == cur.Key && id == cur.UploadID {
				if o.ModTime.Before(cur.Initiated) {
					cur.Initiated = o.ModTime
				}
				continue
			}
			if cur.UploadID != "" && !yield(cur, nil) {
				return
			}
			cur = UploadInfo{Key: k, UploadID: id, Initiated: o.ModTime}
		}
		if cur.UploadID != "" {
			yield(cur, nil)
		}
	}
}
