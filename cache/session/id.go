package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// idBytes is the entropy of a session id: 256 bits.
const idBytes = 32

// idLen is the length of an encoded id (unpadded URL-safe base64).
var idLen = base64.RawURLEncoding.EncodedLen(idBytes)

func newID() string {
	var b [idBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validID reports whether id has the shape of an id this package issues, so
// junk cookies never reach the cache.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

// storageKey is the cache key of a session: a hash of its id, so whoever
// reads the cache cannot replay the ids it finds there.
func storageKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
