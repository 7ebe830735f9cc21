package storage

import (
	"errors"
	"strings"
	"testing"

	"gocloud.dev/blob"
)

// TestDriverHint: a cloud scheme whose driver is not imported says which
// import registers it; a registered one or an unknown scheme gives no hint.
func TestDriverHint(t *testing.T) {
	empty := new(blob.URLMux)
	for scheme, imp := range map[string]string{
		"s3": "github.com/repokit/repokit/storage/s3native", "gs": "gocloud.dev/blob/gcsblob", "azblob": "gocloud.dev/blob/azureblob",
	} {
		err := driverHintIn(empty, scheme)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), imp) {
			t.Errorf("%s: %v, want ErrUnsupported naming %s", scheme, err, imp)
		}
	}
	if err := driverHintIn(empty, "nosuch"); err != nil {
		t.Errorf("unknown scheme: %v", err)
	}
	withS3 := new(blob.URLMux)
	withS3.RegisterBucket("s3", blob.DefaultURLMux())
	if err := driverHintIn(withS3, "s3"); err != nil {
		t.Errorf("registered s3: %v", err)
	}
}
