package storage_test

import (
	"testing"

	"github.com/repokit/repokit/storage/storagetest"
)

// TestConformance runs the driver suite on mem:// and file:// always, and on
// S3 when REPOKIT_TEST_S3_URL is set.
func TestConformance(t *testing.T) {
	for _, d := range storagetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			storagetest.RunConformance(t, d)
		})
	}
}
