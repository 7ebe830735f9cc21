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
package files
