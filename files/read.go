package files

import (
	"context"
	"fmt"
	"time"

	"github.com/repokit/repokit/storage"
)

// OpenFile opens a file instance's bytes for reading. The reader is an
// io.ReadSeekCloser (hand it to http.ServeContent); the caller closes it.
// A reader keeps working if the file is migrated meanwhile: migration
// deletes the old bytes only after switching the row (and a grace delay).
func (s *Store) OpenFile(ctx context.Context, f *FileInstance) (*storage.Reader, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: delete marker has no bytes", ErrNotFound)
	}
	loc, err := s.location(f.Location)
	if err != nil {
		return nil, err
	}
	r, err := loc.NewReader(ctx, f.StorageKey)
	if err != nil {
		return nil, fmt.Errorf("files: open %s: %w", f.ID, err)
	}
	return r, nil
}

// Open opens the bytes of an object version (see OpenFile).
func (s *Store) Open(ctx context.Context, o *Object) (*storage.Reader, error) {
	return s.OpenFile(ctx, o.File)
}

// SignedURL returns a URL from which the file can be downloaded without
// going through this process, valid for ttl; ErrUnsupported when the
// file's location cannot sign URLs.
func (s *Store) SignedURL(ctx context.Context, f *FileInstance, ttl time.Duration) (string, error) {
	return s.SignedURLWith(ctx, f, ttl, storage.SignedURLOptions{})
}

// SignedURLWith is SignedURL with response header overrides (download file
// name, safe content type) where the location supports them.
func (s *Store) SignedURLWith(ctx context.Context, f *FileInstance, ttl time.Duration, o storage.SignedURLOptions) (string, error) {
	if f == nil {
		return "", fmt.Errorf("%w: delete marker has no bytes", ErrNotFound)
	}
	loc, err := s.location(f.Location)
	if err != nil {
		return "", err
	}
	return loc.SignedURLWith(ctx, f.StorageKey, ttl, o)
}
