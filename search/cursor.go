package search

import (
	"encoding/base64"
	"encoding/json"
)

// cursor is the opaque search_after token handed to clients.
type cursor struct {
	After []json.RawMessage `json:"a"`
	PIT   string            `json:"p,omitempty"`
	// Binding is the fingerprint of the sort option and query the cursor
	// was produced for (Spec.Binding).
	Binding string `json:"b,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, badParam("after", "malformed cursor")
	}
	if err := json.Unmarshal(b, &c); err != nil || len(c.After) == 0 {
		return c, badParam("after", "malformed cursor")
	}
	return c, nil
}
