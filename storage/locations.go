package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// LocationConfig names one location to open with OpenLocations.
type LocationConfig struct {
	Name    string // unique; used in file instance rows and signed URL paths
	URL     string // gocloud blob URL, see OpenLocation
	Default bool   // exactly one location may be the default; if none is, the first is
}

// Locations is a set of open locations with one default. It is safe for
// concurrent use and immutable once opened.
type Locations struct {
	byName map[string]*Location
	names  []string
	def    *Location
}

// OpenLocations opens every configured location. If any fails, the ones
// already opened are closed and the error is returned.
func OpenLocations(ctx context.Context, configs []LocationConfig, opts ...Option) (*Locations, error) {
	if len(configs) == 0 {
		return nil, fmt.Errorf("storage: no locations configured: %w", ErrInvalid)
	}
	o := buildOptions(opts)
	var locs []*Location
	def := ""
	for _, c := range configs {
		if c.Default {
			if def != "" {
				closeAll(locs)
				return nil, fmt.Errorf("storage: two default locations %q and %q: %w", def, c.Name, ErrInvalid)
			}
			def = c.Name
		}
		l, err := openLocation(ctx, c.Name, c.URL, o)
		if err != nil {
			closeAll(locs)
			return nil, err
		}
		locs = append(locs, l)
	}
	if def == "" {
		def = configs[0].Name
	}
	ls, err := NewLocations(def, locs...)
	if err != nil {
		closeAll(locs)
		return nil, err
	}
	return ls, nil
}

// OpenLocationsMap opens locations from a name → URL map; defaultName must be
// one of its keys.
func OpenLocationsMap(ctx context.Context, urls map[string]string, defaultName string, opts ...Option) (*Locations, error) {
	if _, ok := urls[defaultName]; !ok {
		return nil, fmt.Errorf("storage: default location %q not among the configured ones: %w", defaultName, ErrInvalid)
	}
	names := make([]string, 0, len(urls))
	for n := range urls {
		names = append(names, n)
	}
	sort.Strings(names)
	configs := make([]LocationConfig, 0, len(names))
	for _, n := range names {
		configs = append(configs, LocationConfig{Name: n, URL: urls[n], Default: n == defaultName})
	}
	return OpenLocations(ctx, configs, opts...)
}

// NewLocations groups already opened locations; defaultName must be one of
// them. Locations takes ownership: its Close closes them.
func NewLocations(defaultName string, locs ...*Location) (*Locations, error) {
	ls := &Locations{byName: make(map[string]*Location, len(locs))}
	for _, l := range locs {
		if _, dup := ls.byName[l.name]; dup {
			return nil, fmt.Errorf("storage: duplicate location name %q: %w", l.name, ErrInvalid)
		}
		ls.byName[l.name] = l
		ls.names = append(ls.names, l.name)
	}
	ls.def = ls.byName[defaultName]
	if ls.def == nil {
		return nil, fmt.Errorf("storage: default location %q not among the given ones: %w", defaultName, ErrInvalid)
	}
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

// Names returns the location names in configuration order.
func (ls *Locations) Names() []string { return slices.Clone(ls.names) }

// All returns the locations in configuration order.
func (ls *Locations) All() []*Location {
	out := make([]*Location, 0, len(ls.names))
	for _, n := range ls.names {
		out = append(out, ls.byName[n])
	}
	return out
}

// Close closes every location and returns their errors joined.
func (ls *Locations) Close() error {
	var errs []error
	for _, n := range ls.names {
		errs = append(errs, ls.byName[n].Close())
	}
	return errors.Join(errs...)
}
