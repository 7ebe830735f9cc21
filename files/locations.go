package files

import "fmt"

// Locations is the set of storage locations the store writes to and reads
// from (see package storage).
type Locations interface {
	// Has reports whether a location of that name exists ("" = default).
	Has(name string) bool
}

func (s *Store) checkLocation(name string) error {
	if !s.locs.Has(name) {
		return fmt.Errorf("%w: unknown storage location %q", ErrInvalid, name)
	}
	return nil
}
