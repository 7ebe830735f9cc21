package search_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/repokit/repokit/search"
)

func TestDefinitionIndexOptions(t *testing.T) {
	def := func(opts string) search.Definition {
		return search.Definition{Mappings: json.RawMessage(`{"properties": {"d": {"type": "text"` + opts + `}}}`)}
	}
	for opts, want := range map[string]bool{"": true, `, "index_options": "positions"`: true, `, "index_options": "offsets"`: true,
		`, "index_options": "freqs"`: false, `, "index_options": "docs"`: false} {
		fm, err := def(opts).FieldMap()
		if err != nil || fm["d"].Positions != want {
			t.Errorf("%s: positions %v (%v), want %v", opts, fm["d"].Positions, err, want)
		}
	}
	if _, err := def(`, "index_options": "all"`).Fields(); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("index_options all: %v, want ErrInvalid", err)
	}
	// positions cannot be added or removed by a mapping update
	if err := def("").CheckAdditive(def(`, "index_options": "freqs"`)); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("positions -> freqs: %v, want ErrInvalid", err)
	}
	if err := def(`, "index_options": "freqs"`).CheckAdditive(def(`, "index_options": "docs"`)); err != nil {
		t.Errorf("freqs -> docs: %v", err)
	}
}
