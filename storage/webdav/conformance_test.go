package webdav_test

import (
	"testing"

	"github.com/repokit/repokit/storage/storagetest"
	"github.com/repokit/repokit/storage/webdav/webdavtest"
)

// TestConformance runs storage's driver suite on golang.org/x/net/webdav
// in-process, and on Apache httpd mod_dav_fs and xrootd's XrdHttp when
// REPOKIT_TEST_WEBDAV_URL and REPOKIT_TEST_XROOTD_URL name them.
func TestConformance(t *testing.T) {
	for _, d := range webdavtest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			storagetest.RunConformance(t, d)
		})
	}
}
