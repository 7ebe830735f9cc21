package blevesearch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/repokit/repokit/search"
)

// manifest is the driver's catalogue, kept in <root>/manifest.json: the
// concrete indices with their definitions and the aliases (bleve has none).
// It is replaced atomically (write temp file, fsync, rename).
type manifest struct {
	Indices map[string]search.Definition `json:"indices"`
	Aliases map[string][]string          `json:"aliases"`
	// Shards is the number of bleve indices of a concrete index created
	// with shards=N (absent: one)
	Shards map[string]int `json:"shards,omitempty"`
}

const manifestFile = "manifest.json"

func loadManifest(root string) (*manifest, error) {
	m := &manifest{Indices: map[string]search.Definition{}, Aliases: map[string][]string{}, Shards: map[string]int{}}
	b, err := os.ReadFile(filepath.Join(root, manifestFile))
	if os.IsNotExist(err) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("blevesearch: corrupt manifest %s: %w", filepath.Join(root, manifestFile), err)
	}
	if m.Indices == nil {
		m.Indices = map[string]search.Definition{}
	}
	if m.Aliases == nil {
		m.Aliases = map[string][]string{}
	}
	if m.Shards == nil {
		m.Shards = map[string]int{}
	}
	return m, nil
}

func (m *manifest) save(root string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(root, ".manifest-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(root, manifestFile)); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(root); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func (m *manifest) clone() *manifest {
	c := &manifest{Indices: map[string]search.Definition{}, Aliases: map[string][]string{}, Shards: map[string]int{}}
	for k, v := range m.Indices {
		c.Indices[k] = v
	}
	for k, v := range m.Aliases {
		c.Aliases[k] = append([]string(nil), v...)
	}
	for k, v := range m.Shards {
		c.Shards[k] = v
	}
	return c
}
