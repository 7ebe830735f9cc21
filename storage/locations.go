package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// DefaultLocationName is the name Open gives the location at its URL unless
// WithName says otherwise.
const DefaultLocationName = "default"

// Locations is a set of open locations with one default: what the files
// package stores bytes in. It is safe for concurrent use and immutable once
// opened. Open it from URLs with Open, or group locations opened with
// OpenLocation by New; Close closes every location.
type Locations struct {
	byName map[string]*Location
	names  []string
	def    *Location

	closeOnce sync.Once
	closeErr  error
}

// Open opens a set of locations from URLs, like gocloud.dev's
// blob.OpenBucket: the location at url is the default (named
// DefaultLocationName unless WithName is given) and WithLocation adds more.
// See OpenLocation for the URL forms. If any location fails to open, the
// ones already opened are closed and the error is returned.
//
//	locs, err := storage.Open(ctx, "file:///srv/data?create_dir=1",
//		storage.WithLocation("archive", "s3://archive-bucket?region=eu-west-1"))
func Open(ctx context.Context, url string, opts ...Option) (*Locations, error) {
	o := buildOptions(opts)
	all := append([][2]string{{o.name, url}}, o.extra...)
	var locs []*Location
	for _, c := range all {
		l, err := openLocation(ctx, c[0], c[1], o)
		if err != nil {
			closeAll(locs)
			return nil, err
		}
		locs = append(locs, l)
	}
	ls, err := group(locs)
	if err != nil {
		closeAll(locs)
		return nil, err
	}
	return ls, nil
}

// New groups locations opened with OpenLocation into a set whose default is
// def, like database/sql's OpenDB over an opened connector. The set takes
// ownership: its Close closes them all. ctx is not used today; it is there
// for symmetry with every other RepoKit constructor that takes a driver.
func New(ctx context.Context, def *Location, others ...*Location) (*Locations, error) {
	if def == nil {
		return nil, fmt.Errorf("storage: New needs a default location: %w", ErrInvalid)
	}
	for _, l := range others {
		if l == nil {
			return nil, fmt.Errorf("storage: New: nil location: %w", ErrInvalid)
		}
	}
	return group(append([]*Location{def}, others...))
}

// group makes a set of locs whose first is the default.
func group(locs []*Location) (*Locations, error) {
	ls := &Locations{byName: make(map[string]*Location, len(locs))}
	for _, l := range locs {
		if _, dup := ls.byName[l.name]; dup {
			return nil, fmt.Errorf("storage: duplicate location name %q: %w", l.name, ErrInvalid)
		}
		ls.byName[l.name] = l
		ls.names = append(ls.names, l.name)
	}
	ls.def = locs[0]
	return ls, nil
}

func closeAll(locs []*Location) {
	for _, l := range locs {
		_ = l.Close()
	}
}

// Get returns the location called name, or an error matching ErrNotFound.
func (ls *Locations) Get(name string) (*Location, error) {
	if l, ok := ls.byName[name]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("storage: location %q: %w", name, ErrNotFound)
}

// Default returns the default location.
func (ls *Locations) Default() *Location { return ls.def }

// Names returns the location names, the default first, then in the order
// they were given.
func (ls *Locations) Names() []string { return slices.Clone(ls.names) }

// All returns the locations in the order of Names.
func (ls *Locations) All() []*Location {
	out := make([]*Location, 0, len(ls.names))
	for _, n := range ls.names {
		out = append(out, ls.byName[n])
	}
	return out
}

// Close closes every location and returns their errors joined. It is
// idempotent: later calls return the first call's result.
func (ls *Locations) Close() error {
	ls.closeOnce.Do(func() {
		var errs []error
		for _, n := range ls.names {
			errs = append(errs, ls.byName[n].Close())
		}
		ls.closeErr = errors.Join(errs...)
	})
	return ls.closeErr
}
