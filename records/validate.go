package records

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaKey   = []byte(`"$schema"`)
	unicodeEsc  = []byte(`\u`)
	errNotObj   = fmt.Errorf("%w: not a JSON object", ErrInvalid)
	errBadJSON  = fmt.Errorf("%w: not valid JSON", ErrInvalid)
	errBadSchem = fmt.Errorf("%w: \"$schema\" must be a string", ErrInvalid)
)

// Validate checks doc as Create and Update do, without writing anything:
// size limit (ErrTooLarge), valid JSON (ErrInvalid), a JSON object
// (ErrInvalid), and, when it names a "$schema", that the schema is
// registered (ErrUnknownSchema) and the document matches it
// (*ValidationError, matching ErrSchema and ErrInvalid).
func (s *Store) Validate(doc []byte) error { return s.c.validate(doc) }

func (c *core) validate(doc []byte) error {
	if len(doc) > c.maxSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(doc), c.maxSize)
	}
	if !isObject(doc) {
		if json.Valid(doc) {
			return errNotObj
		}
		return errBadJSON
	}
	if !json.Valid(doc) {
		return errBadJSON
	}
	// Fast path: a document that cannot name a "$schema" key (no literal
	// key, no \u escape that could spell one) needs no parsing.
	if !bytes.Contains(doc, schemaKey) && !bytes.Contains(doc, unicodeEsc) {
		return nil
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadJSON, err)
	}
	obj, _ := v.(map[string]any)
	raw, ok := obj["$schema"]
	if !ok {
		return nil
	}
	uri, ok := raw.(string)
	if !ok {
		return errBadSchem
	}
	return c.schemas.validate(uri, v)
}

// isObject reports whether the first non-space byte of doc opens an object.
func isObject(doc []byte) bool {
	for _, b := range doc {
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}
