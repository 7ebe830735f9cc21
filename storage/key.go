package storage

import (
	"strings"

	"github.com/google/uuid"
)

// NewKey returns a fresh, unique key "ab/cd/<uuid>/data" (Invenio's local
// layout: the first two pairs of hex digits of a random UUID as directories,
// so no directory grows huge). Writing every new file under a new key means
// bytes never overwrite bytes a committed row points at.
func NewKey() string {
	id := uuid.New().String()
	return id[0:2] + "/" + id[2:4] + "/" + id + "/data"
}

// partsSuffix marks where the non-native multipart implementation keeps parts of
// an upload to key: key + ".parts/" + uploadID + "/".
const partsSuffix = ".parts/"

// IsPartKey reports whether key holds a part of an unfinished multipart upload
// (non-S3 locations) and, if so, the final key and upload id. Garbage
// collection uses it to tell abandoned parts from orphaned objects.
func IsPartKey(key string) (finalKey, uploadID string, ok bool) {
	i := strings.LastIndex(key, partsSuffix)
	if i <= 0 {
		return "", "", false
	}
	rest := key[i+len(partsSuffix):]
	uploadID, _, ok = strings.Cut(rest, "/")
	if !ok || uploadID == "" {
		return "", "", false
	}
	return key[:i], uploadID, true
}
