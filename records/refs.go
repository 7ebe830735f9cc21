package records

import (
	"context"
	"fmt"
	"iter"

	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/internal/sqldb"
)

// refsPage is how many refs one keyset page reads.
const refsPage = 1000

// Refs streams a Ref for every record, soft-deleted ones included, ordered
// by id. It reads pages of 1000 rows by keyset (WHERE id > last), so memory
// stays flat and no connection is held between pages; records created while
// it runs may or may not appear. Stop early by breaking out of the loop. An
// error is yielded once, last.
func (s *Store) Refs(ctx context.Context) iter.Seq2[Ref, error] {
	return func(yield func(Ref, error) bool) {
		q := s.querier()
		var last string
		for first := true; ; first = false {
			page, err := s.refsPage(ctx, q, first, last)
			if err != nil {
				yield(Ref{}, err)
				return
			}
			for _, r := range page {
				if !yield(r, nil) {
					return
				}
			}
			if len(page) < refsPage {
				return
			}
			last = page[len(page)-1].ID.String()
		}
	}
}

func (s *Store) refsPage(ctx context.Context, q sqldb.Querier, first bool, after string) ([]Ref, error) {
	var (
		rows *sqlx.Rows
		err  error
	)
	if first {
		rows, err = q.QueryxContext(ctx, s.c.q.refsFirst, refsPage)
	} else {
		rows, err = q.QueryxContext(ctx, s.c.q.refsAfter, after, refsPage)
	}
	if err != nil {
		return nil, fmt.Errorf("records: refs: %w", err)
	}
	defer rows.Close()
	page := make([]Ref, 0, refsPage)
	for rows.Next() {
		var r Ref
		if err := rows.Scan(&r.ID, &r.Revision, &r.Deleted, &r.Updated); err != nil {
			return nil, fmt.Errorf("records: refs: %w", err)
		}
		r.Updated = r.Updated.UTC()
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("records: refs: %w", err)
	}
	return page, nil
}
