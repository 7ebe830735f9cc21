package files

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Verify re-reads a file instance's bytes, re-hashes them (md5 and sha256
// in one pass, constant memory) and records the time and result of the
// check: CheckOK, CheckMismatch (size or a checksum differs) or
// CheckUnreadable (missing or unreadable bytes). The error is only for
// failures to run or record the check (database, cancelled context).
func (s *Store) Verify(ctx context.Context, fileID string) (CheckResult, error) {
	f, err := s.FileInstance(ctx, fileID)
	if err != nil {
		return "", err
	}
	result := CheckOK
	loc, err := s.location(f.Location)
	if err != nil {
		result = CheckUnreadable
	} else {
		res, err := loc.Checksum(ctx, f.StorageKey)
		switch {
		case ctx.Err() != nil:
			return "", ctx.Err()
		case err != nil:
			s.cfg.log.Warn("files: fixity check could not read file", "file", f.ID, "location", f.Location, "key", f.StorageKey, "err", err)
			result = CheckUnreadable
		case res.Size != f.Size || res.Checksums.MD5 != f.MD5 || res.Checksums.SHA256 != f.SHA256:
			s.cfg.log.Error("files: fixity check mismatch", "file", f.ID, "size", res.Size, "want_size", f.Size,
				"md5", res.Checksums.MD5, "want_md5", f.MD5)
			result = CheckMismatch
		}
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE files_instances SET last_check = ?, last_check_at = ? WHERE id = ?"),
			string(result), s.ts(s.now()), fileID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("files: record fixity check: %w", err)
	}
	return result, nil
}

// ScheduleChecks returns the file instances due for a fixity check so that
// every file is checked once per period: files never checked first, then
// those whose last check is oldest, among those last checked more than
// period ago; at most batchMaxFiles files (0 = no count limit) and, beyond
// the first file, at most batchMaxBytes bytes in all (0 = no size limit).
// Run it every interval (e.g. hourly) and Verify what it returns: as in
// Invenio, the batch limits spread the first pass over several runs and
// later passes follow the spread of earlier check times.
func (s *Store) ScheduleChecks(ctx context.Context, period time.Duration, batchMaxFiles int, batchMaxBytes int64) ([]*FileInstance, error) {
	if period <= 0 {
		return nil, userf(ErrInvalid, "period must be positive")
	}
	cutoff := s.now().Add(-period)
	limit := ""
	if batchMaxFiles > 0 {
		limit = fmt.Sprintf(" LIMIT %d", batchMaxFiles)
	}
	var due []*FileInstance
	// Never-checked files first (in creation order), then the oldest checks.
	queries := []struct {
		q    string
		args []any
	}{
		{"SELECT " + instanceCols + " FROM files_instances WHERE status = ? AND last_check_at IS NULL ORDER BY created, id" + limit,
			[]any{statusReady}},
		{"SELECT " + instanceCols + " FROM files_instances WHERE status = ? AND last_check_at < ? ORDER BY last_check_at, id" + limit,
			[]any{statusReady, s.ts(cutoff)}},
	}
	for _, q := range queries {
		var rows []instanceRow
		if err := s.q().SelectContext(ctx, &rows, s.q().Rebind(q.q), q.args...); err != nil {
			return nil, fmt.Errorf("files: schedule checks: %w", err)
		}
		for i := range rows {
			due = append(due, rows[i].instance())
		}
		if batchMaxFiles > 0 && len(due) >= batchMaxFiles {
			break
		}
	}
	var out []*FileInstance
	var bytes int64
	for _, f := range due {
		if batchMaxFiles > 0 && len(out) >= batchMaxFiles {
			break
		}
		if batchMaxBytes > 0 && len(out) > 0 && bytes+f.Size > batchMaxBytes {
			break
		}
		out = append(out, f)
		bytes += f.Size
	}
	return out, nil
}

// CheckReport sums up a RunChecks pass.
type CheckReport struct {
	Checked    int
	Bytes      int64
	OK         int
	Mismatch   []string // file instance ids
	Unreadable []string
}

// RunChecks schedules a batch (see ScheduleChecks) and verifies it.
func (s *Store) RunChecks(ctx context.Context, period time.Duration, batchMaxFiles int, batchMaxBytes int64) (*CheckReport, error) {
	due, err := s.ScheduleChecks(ctx, period, batchMaxFiles, batchMaxBytes)
	if err != nil {
		return nil, err
	}
	rep := &CheckReport{}
	for _, f := range due {
		res, err := s.Verify(ctx, f.ID)
		if errors.Is(err, ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return rep, err
		}
		rep.Checked++
		rep.Bytes += f.Size
		switch res {
		case CheckOK:
			rep.OK++
		case CheckMismatch:
			rep.Mismatch = append(rep.Mismatch, f.ID)
		default:
			rep.Unreadable = append(rep.Unreadable, f.ID)
		}
	}
	return rep, nil
}
