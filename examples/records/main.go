// Command records is a tour of package records: it opens a record store
// (SQLite in a temporary directory unless -url or REPOKIT_RECORDS_URL names
// another database), creates a record with its recid minted into revision
// 0 (pid.CreateRecord: one transaction), updates it twice, shows that a stale update and an invalid
// document are refused, lists records and revisions, reverts to revision 0
// and resolves the recid.
//
//	go run ./examples/records
//	go run ./examples/records -url 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/repokit/repokit/records"
	"github.com/repokit/repokit/records/pid"
)

const schemaURI = "https://example.org/schemas/article-v1.json"

var schema = []byte(`{
  "type": "object",
  "required": ["title"],
  "properties": {
    "title": {"type": "string", "minLength": 1},
    "year": {"type": "integer", "minimum": 1000},
    "creators": {"type": "array", "items": {"type": "string"}}
  }
}`)

func main() {
	url := flag.String("url", os.Getenv("REPOKIT_RECORDS_URL"),
		"database URL: sqlite:///path.db, postgres://..., mysql://... (default: SQLite in a temp dir; env REPOKIT_RECORDS_URL)")
	flag.Parse()
	if *url == "" {
		dir, err := os.MkdirTemp("", "repokit-records-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
		*url = "sqlite://" + filepath.Join(dir, "records.db")
	}
	if err := run(context.Background(), *url, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// run is the whole tour, writing what it does to w.
func run(ctx context.Context, url string, w io.Writer) error {
	fmt.Fprintf(w, "Opening a %s database\n", strings.SplitN(url, ":", 2)[0])
	// Every document must name its schema (WithRequiredSchema).
	store, err := records.Open(ctx, url, records.WithSchema(schemaURI, schema), records.WithRequiredSchema())
	if err != nil {
		return err
	}
	defer store.Close()
	pids, err := pid.New(ctx, store.DB())
	if err != nil {
		return err
	}

	// 1. Mint the recid and create the record carrying it in revision 0,
	// in one transaction (run it in yours with pids.WithTx(tx)).
	rec, recid, err := pids.CreateRecord(ctx, store, doc("Relativity", 1905, ""))
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	fmt.Fprintf(w, "\n1. Created record %s with recid %s\n", rec.ID, recid.Value)
	printRecord(w, rec)

	// 2. Update it twice, each time naming the revision we read.
	for i, d := range []json.RawMessage{doc("Relativity, special", 1905, recid.Value), doc("Relativity, special and general", 1916, recid.Value)} {
		rec, err = store.Update(ctx, rec.ID, d, rec.Revision)
		if err != nil {
			return fmt.Errorf("update %d: %w", i+1, err)
		}
		fmt.Fprintf(w, "\n2.%d Updated it\n", i+1)
		printRecord(w, rec)
	}

	// 3. What gets refused.
	_, err = store.Update(ctx, rec.ID, doc("stale write", 2000, recid.Value), 0)
	if !errors.Is(err, records.ErrConflict) {
		return fmt.Errorf("stale update: got %v, want ErrConflict", err)
	}
	fmt.Fprintf(w, "\n3. An update naming revision 0 is refused: %v\n", err)
	_, err = store.Create(ctx, json.RawMessage(`{"$schema": "`+schemaURI+`", "title": "", "year": 99}`))
	var ve *records.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("invalid create: got %v, want a ValidationError", err)
	}
	fmt.Fprintln(w, "   A document that does not match its schema is refused:")
	for _, fe := range ve.Errors {
		fmt.Fprintf(w, "     %s: %s\n", fe.Path, fe.Message)
	}

	// 4. List records (first 10) and this record's revisions.
	fmt.Fprintln(w, "\n4. Records in the store:")
	n := 0
	for ref, err := range store.Refs(ctx) {
		if err != nil {
			return err
		}
		if n++; n > 10 {
			fmt.Fprintln(w, "   ...")
			break
		}
		fmt.Fprintf(w, "   %s  revision %d  deleted=%v\n", ref.ID, ref.Revision, ref.Deleted)
	}
	revs, err := store.Revisions(ctx, rec.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   Revisions of %s:\n", rec.ID)
	for _, r := range revs {
		fmt.Fprintf(w, "   revision %d  %-8s %s\n", r.Revision, r.Op, compact(r.JSON))
	}

	// 5. Revert to revision 0: a new revision with the old document.
	rec, err = store.Revert(ctx, rec.ID, 0)
	if err != nil {
		return fmt.Errorf("revert: %w", err)
	}
	fmt.Fprintln(w, "\n5. Reverted to revision 0")
	printRecord(w, rec)

	// 6. Resolve the recid back to the record.
	_, got, err := pid.NewResolver(pids, store).Resolve(ctx, pid.RecidType, recid.Value)
	if err != nil {
		return fmt.Errorf("resolve: %w", err)
	}
	fmt.Fprintf(w, "\n6. recid %s resolves to record %s at revision %d\n", recid.Value, got.ID, got.Revision)
	return nil
}

func doc(title string, year int, recid string) json.RawMessage {
	m := map[string]any{"$schema": schemaURI, "title": title, "year": year, "creators": []string{"Einstein, Albert"}}
	if recid != "" {
		m["id"] = recid // keep the recid CreateRecord wrote into revision 0
	}
	b, _ := json.Marshal(m)
	return b
}

func printRecord(w io.Writer, r *records.Record) {
	fmt.Fprintf(w, "   revision %d, created %s, updated %s\n   %s\n",
		r.Revision, r.Created.Format("15:04:05.000000"), r.Updated.Format("15:04:05.000000"), compact(r.JSON))
}

// compact prints a document on one line with keys sorted, whatever the
// database did to its formatting.
func compact(raw json.RawMessage) string {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	delete(v, "$schema")
	b, _ := json.Marshal(v)
	return string(b)
}
