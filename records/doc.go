// Package records stores JSON records in SQL (PostgreSQL, MySQL/MariaDB or
// SQLite), the way Invenio's invenio-records does, with the weaknesses fixed:
//
//   - every record has a UUID, a JSON object, a revision (0 on create, +1 on
//     every commit), created/updated times in UTC and a deleted flag;
//   - updates are optimistic: the caller names the revision it read, and a
//     stale revision fails with ErrConflict instead of overwriting;
//   - soft delete keeps the JSON, so deleted records can be inspected,
//     reindexed and restored (Undelete); Purge removes a record for good;
//   - every committed revision is kept (Revisions, Revision), each document
//     stored once: the current revision is the record's row, and a commit
//     moves the row it supersedes into a history table; Revert makes a new
//     revision from an old one;
//   - documents are checked before any SQL runs: valid JSON, an object, under
//     a size limit, and valid against the JSON Schema named by its "$schema"
//     when that schema is registered with the store;
//   - hooks run before and after each operation inside its transaction, can
//     veto it or amend the record;
//   - every operation can run inside the caller's transaction (WithTx), so a
//     host can write records, persistent identifiers (package records/pid)
//     and outbox rows atomically.
//
// Open a store from a URL with Open, or hand New the host's *sqlx.DB. Tables
// (records_metadata, records_revisions) are created and upgraded by New.
package records
