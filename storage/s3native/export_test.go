package s3native

// SetCopyLimits lowers the large-copy threshold and part size for a test
// and returns a function restoring them.
func SetCopyLimits(limit, part int64) (restore func()) {
	ol, op := s3CopyObjectLimit, s3CopyPartSize
	s3CopyObjectLimit, s3CopyPartSize = limit, part
	return func() { s3CopyObjectLimit, s3CopyPartSize = ol, op }
}
