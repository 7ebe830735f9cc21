package files

import (
	"github.com/repokit/repokit/storage"
)

// location resolves a location name ("" = the default location).
func (s *Store) location(name string) (*storage.Location, error) {
	if name == "" {
		return s.locs.Default(), nil
	}
	l, err := s.locs.Get(name)
	if err != nil {
		return nil, userf(ErrInvalid, "unknown storage location %q", name)
	}
	return l, nil
}

func (s *Store) checkLocation(name string) error {
	_, err := s.location(name)
	return err
}
