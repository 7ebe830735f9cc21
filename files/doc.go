// Package files keeps the metadata of a digital repository's files in SQL and
// moves their bytes through package storage: buckets (quota, maximum file
// size, lock, soft delete, storage-class routing, tags), versioned objects
// (delete markers, restore, metadata-only copy, snapshot and sync), file
// instances shared between versions, multipart uploads, fixity checks,
// migration between locations and garbage collection. Package fileshttp
// serves it as a REST API.
//
// Bytes are always written under a new storage key outside any database
// transaction; they become visible only when a short metadata transaction
// commits. Rows and bytes are removed in an order where a crash can leave
// unreferenced bytes (which GC removes) but never a row pointing at missing
// bytes.
//
// Object keys are 1 to MaxKeyLength bytes of UTF-8 without control
// characters or "." and ".." segments (ValidateKey), normalized to Unicode
// NFC by every method that takes one (NormalizeKey): the composed and
// decomposed spellings of a name are one key. Delete of a key that is
// absent or already deleted returns ErrNotFound and writes nothing
// (fileshttp answers it 204, as S3 does); DeleteVersion of a version that
// does not exist returns ErrNotFound, and of concurrent deletions of one
// version exactly one succeeds.
//
// A bucket's size is the sum of the file sizes of all its versions (a
// version sharing a file with another, after Restore, Copy or Snapshot,
// counts again). Every change of it happens in the transaction that adds
// or removes the version, under the bucket's row lock, so it never drifts
// and concurrent writers never take the bucket over its quota.
//
// Errors match the sentinels below; Message gives the part of an error
// that may be shown to end users (no storage keys, file ids or layers).
package files
