// Command sizeprobe is a minimal SQLite + local files app: what a program
// that stores records and files locally links. Its test checks that no cloud
// SDK is among its dependencies; measure its size with
//
//	go build -ldflags='-s -w' -o /tmp/probe ./internal/sizeprobe && ls -l /tmp/probe
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/repokit/repokit/files"
	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/storage"
)

func main() {
	ctx := context.Background()
	recs, err := records.Open(ctx, "sqlite://repo.db")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer recs.Close()
	locs, err := storage.Open(ctx, "file://data?create_dir=1")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer locs.Close()
	if _, err := files.New(ctx, recs.DB(), locs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
