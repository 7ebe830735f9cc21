package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoCloudSDKs: a SQLite + local files program links no cloud storage
// SDK (they are opt-in by import: storage/s3native, gcsblob, azureblob).
func TestNoCloudSDKs(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps gave %d packages: %s", len(deps), out)
	}
	for _, d := range deps {
		for _, sdk := range []string{"github.com/aws/", "cloud.google.com/go/storage", "github.com/Azure/", "gocloud.dev/blob/s3blob", "gocloud.dev/blob/gcsblob", "gocloud.dev/blob/azureblob"} {
			if strings.HasPrefix(d, sdk) {
				t.Errorf("minimal app links %s", d)
			}
		}
	}
}
