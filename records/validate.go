package records

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaKey   = []byte(`"$schema"`)
	unicodeEsc  = []byte(`\u`)
	errNotObj   = fmt.Errorf("%w: not a JSON object", ErrInvalid)
	errBadJSON  = fmt.Errorf("%w: not valid JSON", ErrInvalid)
	errBadSchem = fmt.Errorf("%w: \"$schema\" must be a string", ErrInvalid)
	errBadUTF8  = fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
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
	if !validJSON(doc) {
		// The fast check refused (or gave up on deep nesting): the standard
		// checks decide, and tell which error it is.
		if !json.Valid(doc) {
			return errBadJSON
		}
		if !utf8.Valid(doc) {
			return errBadUTF8
		}
	}
	hasEscapes := bytes.Contains(doc, unicodeEsc)
	if hasEscapes {
		if err := checkEscapes(doc); err != nil {
			return err
		}
	}
	// Fast path: a document that cannot name a "$schema" key (no literal
	// key, no \u escape that could spell one) needs no parsing.
	if !hasEscapes && !bytes.Contains(doc, schemaKey) && !c.schemaPolicy() {
		return nil
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadJSON, err)
	}
	obj, _ := v.(map[string]any)
	raw, ok := obj["$schema"]
	if !ok {
		return c.validateWithoutSchema(v)
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

// checkEscapes refuses the \u escapes that not every database stores: NUL
// (\u0000, which PostgreSQL's jsonb rejects) and unpaired UTF-16
// surrogates. doc is valid JSON, so a backslash only ever starts an escape
// inside a string.
func checkEscapes(doc []byte) error {
	highPending := false
	for i := 0; i < len(doc); i++ {
		if doc[i] != '\\' {
			if highPending {
				return fmt.Errorf("%w: unpaired UTF-16 surrogate escape", ErrInvalid)
			}
			continue
		}
		if doc[i+1] != 'u' {
			if highPending {
				return fmt.Errorf("%w: unpaired UTF-16 surrogate escape", ErrInvalid)
			}
			i++
			continue
		}
		cp := hex4(doc[i+2 : i+6])
		i += 5
		switch {
		case cp == 0:
			return fmt.Errorf("%w: \\u0000 is not allowed in documents", ErrInvalid)
		case cp >= 0xD800 && cp <= 0xDBFF:
			if highPending {
				return fmt.Errorf("%w: unpaired UTF-16 surrogate escape", ErrInvalid)
			}
			highPending = true
		case cp >= 0xDC00 && cp <= 0xDFFF:
			if !highPending {
				return fmt.Errorf("%w: unpaired UTF-16 surrogate escape", ErrInvalid)
			}
			highPending = false
		default:
			if highPending {
				return fmt.Errorf("%w: unpaired UTF-16 surrogate escape", ErrInvalid)
			}
		}
	}
	if highPending {
		return fmt.Errorf("%w: unpaired UTF-16 surrogate escape", ErrInvalid)
	}
	return nil
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
