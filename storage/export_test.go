package storage

// SetS3CopyLimits lowers the large-copy threshold and part size for a test
// and returns a function restoring them.
func SetS3CopyLimits(limit, part int64) (restore func()) {
	ol, op := s3CopyObjectLimit, s3CopyPartSize
	s3CopyObjectLimit, s3CopyPartSize = limit, part
	return func() { s3CopyObjectLimit, s3CopyPartSize = ol, op }
}
