package tasks

import (
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/repokit/repokit/internal/sqldb"
)

// dbTime scans a time column of any dialect: TIMESTAMPTZ (PostgreSQL),
// DATETIME(6) (MySQL) or INTEGER microseconds since the epoch (SQLite).
type dbTime struct {
	T     time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*t = dbTime{}
	case time.Time:
		*t = dbTime{T: x.UTC(), Valid: true}
	case int64:
		*t = dbTime{T: time.UnixMicro(x).UTC(), Valid: true}
	case []byte:
		return t.parse(string(x))
	case string:
		return t.parse(x)
	default:
		return fmt.Errorf("tasks: cannot scan %T into a time", v)
	}
	return nil
}

func (t *dbTime) parse(s string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999"} {
		if p, err := time.Parse(layout, s); err == nil {
			*t = dbTime{T: p.UTC(), Valid: true}
			return nil
		}
	}
	return fmt.Errorf("tasks: cannot parse time %q", s)
}

func (t dbTime) ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.T
	return &v
}

// tv converts a time to the column value of dialect d.
func tv(d sqldb.Dialect, t time.Time) driver.Value {
	if d == sqldb.SQLite {
		return t.UnixMicro()
	}
	return t.UTC().Truncate(time.Microsecond)
}
