package tasks

import (
	"database/sql/driver"
	"strconv"
	"strings"
)

// pqInt64Array encodes a PostgreSQL bigint[] literal.
type pqInt64Array []int64

// Value implements driver.Valuer.
func (a pqInt64Array) Value() (driver.Value, error) {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, v := range a {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatInt(v, 10))
	}
	sb.WriteByte('}')
	return sb.String(), nil
}
