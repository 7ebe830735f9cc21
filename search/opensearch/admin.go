package opensearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/repokit/repokit/search"
)

// metaKey holds the definition's settings inside the mapping's _meta, so
// that Definition can return them without the cluster's own settings
// (uuid, creation date...).
const metaKey = "repokit_settings"

func withMeta(def search.Definition) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(def.Mappings) > 0 {
		if err := json.Unmarshal(def.Mappings, &m); err != nil {
			return nil, fmt.Errorf("%w: mappings: %v", search.ErrInvalid, err)
		}
	}
	meta := map[string]json.RawMessage{}
	if raw, ok := m["_meta"]; ok {
		_ = json.Unmarshal(raw, &meta)
	}
	if len(def.Settings) > 0 {
		meta[metaKey] = def.Settings
	} else {
		delete(meta, metaKey)
	}
	if len(meta) > 0 {
		b, _ := json.Marshal(meta)
		m["_meta"] = b
	}
	return json.Marshal(m)
}

// CreateIndex implements search.Driver: PUT /<name>.
func (d *Driver) CreateIndex(ctx context.Context, name string, def search.Definition) error {
	mappings, err := withMeta(def)
	if err != nil {
		return err
	}
	body := map[string]json.RawMessage{"mappings": mappings}
	if len(def.Settings) > 0 {
		body["settings"] = def.Settings
	}
	_, err = d.do(ctx, http.MethodPut, indexPath(name), nil, body, nil)
	return err
}

// DeleteIndex implements search.Driver: DELETE /<name>.
func (d *Driver) DeleteIndex(ctx context.Context, name string) error {
	_, err := d.do(ctx, http.MethodDelete, indexPath(name), nil, nil, nil)
	return err
}

// Exists implements search.Driver: HEAD /<name>.
func (d *Driver) Exists(ctx context.Context, name string) (bool, error) {
	st, err := d.do(ctx, http.MethodHead, indexPath(name), nil, nil, nil)
	if err != nil {
		return false, err
	}
	switch st {
	case 200:
		return true, nil
	case 404:
		return false, nil
	}
	return false, fmt.Errorf("opensearch: HEAD %s: status %d", name, st)
}

// PutMapping implements search.Driver: PUT /<name>/_mapping.
func (d *Driver) PutMapping(ctx context.Context, name string, def search.Definition) error {
	mappings, err := withMeta(def)
	if err != nil {
		return err
	}
	_, err = d.do(ctx, http.MethodPut, indexPath(name)+"/_mapping", nil, mappings, nil)
	return err
}

// Definition implements search.Driver: GET /<name>/_mapping.
func (d *Driver) Definition(ctx context.Context, name string) (search.Definition, error) {
	var out map[string]struct {
		Mappings map[string]json.RawMessage `json:"mappings"`
	}
	if _, err := d.do(ctx, http.MethodGet, indexPath(name)+"/_mapping", nil, nil, &out); err != nil {
		return search.Definition{}, err
	}
	var names []string
	for n := range out {
		names = append(names, n)
	}
	if len(names) == 0 {
		return search.Definition{}, fmt.Errorf("%w: index %s", search.ErrNotFound, name)
	}
	sort.Strings(names)
	m := out[names[len(names)-1]].Mappings
	var def search.Definition
	if raw, ok := m["_meta"]; ok {
		meta := map[string]json.RawMessage{}
		_ = json.Unmarshal(raw, &meta)
		def.Settings = meta[metaKey]
		delete(meta, metaKey)
		if len(meta) == 0 {
			delete(m, "_meta")
		} else {
			m["_meta"], _ = json.Marshal(meta)
		}
	}
	def.Mappings, _ = json.Marshal(m)
	return def, nil
}

// Resolve implements search.Driver: GET /_alias/<alias>.
func (d *Driver) Resolve(ctx context.Context, alias string) ([]string, error) {
	var out map[string]json.RawMessage
	if _, err := d.do(ctx, http.MethodGet, "/_alias"+indexPath(alias), nil, nil, &out); err != nil {
		return nil, err
	}
	var cs []string
	for n := range out {
		cs = append(cs, n)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: alias %s", search.ErrNotFound, alias)
	}
	sort.Strings(cs)
	return cs, nil
}

// SwitchAlias implements search.Driver: one POST /_aliases with the removals
// and the addition, which OpenSearch applies atomically.
func (d *Driver) SwitchAlias(ctx context.Context, alias, add string) error {
	cur, err := d.Resolve(ctx, alias)
	if err != nil && !isNotFound(err) {
		return err
	}
	var actions []map[string]any
	for _, c := range cur {
		if c != add {
			actions = append(actions, map[string]any{"remove": map[string]any{"index": c, "alias": alias}})
		}
	}
	actions = append(actions, map[string]any{"add": map[string]any{"index": add, "alias": alias, "is_write_index": true}})
	_, err = d.do(ctx, http.MethodPost, "/_aliases", nil, map[string]any{"actions": actions}, nil)
	return err
}

func isNotFound(err error) bool {
	w, ok := err.(wrapped)
	return ok && w.sentinel == search.ErrNotFound
}

// Refresh implements search.Driver: POST /<name>/_refresh.
func (d *Driver) Refresh(ctx context.Context, name string) error {
	_, err := d.do(ctx, http.MethodPost, indexPath(name)+"/_refresh", nil, nil, nil)
	return err
}
