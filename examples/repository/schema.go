package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/search"
)

// schemaURI names the JSON Schema every record is validated against.
const schemaURI = "local://records/record-v1.0.0.json"

// recordSchema is the JSON Schema of a stored record (Invenio's shape: the
// descriptive metadata under "metadata", the access under "access"; "id",
// "owners", "bucket" and "pids" are managed by the server).
var recordSchema = []byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["id", "metadata", "access", "owners", "bucket"],
  "properties": {
    "$schema": {"type": "string"},
    "id": {"type": "string", "pattern": "^[0-9]+$"},
    "metadata": {
      "type": "object",
      "required": ["title", "resource_type", "creators"],
      "additionalProperties": false,
      "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 500},
        "description": {"type": "string", "maxLength": 20000},
        "creators": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1, "maxLength": 200}},
        "keywords": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100}},
        "resource_type": {"enum": ["dataset", "publication", "software", "image", "other"]},
        "publication_year": {"type": "integer", "minimum": 1000, "maximum": 9999}
      }
    },
    "access": {
      "type": "object",
      "required": ["record"],
      "additionalProperties": false,
      "properties": {"record": {"enum": ["public", "restricted"]}}
    },
    "owners": {"type": "array", "items": {"type": "string"}},
    "bucket": {"type": "string"},
    "pids": {"type": "object", "additionalProperties": {"type": "string"}}
  }
}`)

// resourceTypes are the allowed values of metadata.resource_type, in the
// order the deposit form shows them.
var resourceTypes = []string{"dataset", "publication", "software", "image", "other"}

// indexDefinition is the index of records. Documents are the public JSON of
// a record (see publicRecord) so a hit renders without a database read;
// "owners" and access.record are indexed for the permission filter.
var indexDefinition = search.Definition{Mappings: json.RawMessage(`{
  "dynamic": false,
  "properties": {
    "id": {"type": "keyword"},
    "created": {"type": "date"},
    "updated": {"type": "date"},
    "owners": {"type": "keyword"},
    "access": {"properties": {"record": {"type": "keyword"}}},
    "metadata": {"properties": {
      "title": {"type": "text"},
      "description": {"type": "text"},
      "creators": {"type": "text"},
      "keywords": {"type": "keyword"},
      "resource_type": {"type": "keyword"},
      "publication_year": {"type": "integer"}
    }}
  }
}`), Settings: json.RawMessage(`{"number_of_shards": 1, "number_of_replicas": 0}`)}

// facetNames are the facets in display order.
var facetNames = []string{"resource_type", "keywords", "access"}

// searchConfig is the user-facing search: allowed fields, facets, sorts, and
// the permission filter of the caller (see access.go).
func searchConfig(perm func(ctx context.Context) (search.Query, error)) search.SearchConfig {
	return search.SearchConfig{
		Schema: search.Schema{
			Fields: map[string]string{
				"title":       "metadata.title",
				"description": "metadata.description",
				"creators":    "metadata.creators",
				"keywords":    "metadata.keywords",
				"type":        "metadata.resource_type",
				"year":        "metadata.publication_year",
				"id":          "id",
				"created":     "created",
			},
			Default: []string{"metadata.title", "metadata.description", "metadata.creators"},
		},
		Facets: map[string]search.FacetConfig{
			"resource_type": {Field: "metadata.resource_type", Size: 10},
			"keywords":      {Field: "metadata.keywords", Size: 10},
			"access":        {Field: "access.record", Size: 2},
		},
		Sorts: map[string][]search.SortField{
			"bestmatch":  {{Field: "_score", Desc: true}},
			"newest":     {{Field: "created", Desc: true}},
			"oldest":     {{Field: "created"}},
			"mostrecent": {{Field: "updated", Desc: true}},
		},
		DefaultSize: 10,
		MaxSize:     100,
		Permission:  perm,
	}
}

// stored is the JSON of a record as stored in the database.
type stored struct {
	Schema   string            `json:"$schema"`
	ID       string            `json:"id"`
	Metadata Metadata          `json:"metadata"`
	Access   Access            `json:"access"`
	Owners   []string          `json:"owners"`
	Bucket   string            `json:"bucket"`
	PIDs     map[string]string `json:"pids,omitempty"`
}

// Metadata is the descriptive part of a record.
type Metadata struct {
	Title           string   `json:"title"`
	Description     string   `json:"description,omitempty"`
	Creators        []string `json:"creators"`
	Keywords        []string `json:"keywords,omitempty"`
	ResourceType    string   `json:"resource_type"`
	PublicationYear int      `json:"publication_year,omitempty"`
}

// Access says who may see a record.
type Access struct {
	Record string `json:"record"` // public or restricted
}

func decodeStored(r *records.Record) (*stored, error) {
	var s stored
	if err := json.Unmarshal(r.JSON, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// publicRecord is the JSON the API returns for a record (and the document
// that is indexed): the stored JSON without internal fields, with dates,
// revision and links.
func publicRecord(base string, r *records.Record, s *stored) map[string]any {
	out := map[string]any{
		"id":          s.ID,
		"created":     r.Created.UTC().Format("2006-01-02T15:04:05.000000Z"),
		"updated":     r.Updated.UTC().Format("2006-01-02T15:04:05.000000Z"),
		"revision_id": r.Revision,
		"metadata":    s.Metadata,
		"access":      s.Access,
		"owners":      s.Owners,
		"links": map[string]string{
			"self":      base + "/api/records/" + s.ID,
			"self_html": base + "/records/" + s.ID,
			"files":     base + "/api/records/" + s.ID + "/files",
			"revisions": base + "/api/records/" + s.ID + "/revisions",
		},
	}
	if len(s.PIDs) > 0 {
		out["pids"] = s.PIDs
	}
	return out
}

// visibleTo removes what only the record's owners and admins may see (the
// owners' user ids) from a public record or a search hit.
func visibleTo(act *Actor, m map[string]any) map[string]any {
	owners, _ := m["owners"].([]any)
	mine := act.privileged()
	for _, o := range owners {
		mine = mine || (act.User != nil && o == act.User.ID)
	}
	if ss, ok := m["owners"].([]string); ok {
		for _, o := range ss {
			mine = mine || (act.User != nil && o == act.User.ID)
		}
	}
	if !mine {
		delete(m, "owners")
	}
	return m
}

// dumper builds the indexed document of a record.
func dumper(base string) search.Dumper {
	return func(_ context.Context, r *records.Record) (json.RawMessage, error) {
		s, err := decodeStored(r)
		if err != nil {
			return nil, err
		}
		return json.Marshal(publicRecord(base, r, s))
	}
}

// splitList splits a comma or newline separated form value.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
