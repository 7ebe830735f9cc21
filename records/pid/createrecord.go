package pid

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/repokit/repokit/records"
)

// DefaultRecidField is the top-level field CreateRecord writes the recid
// into (Invenio RDM's "id").
const DefaultRecidField = "id"

// RecordOption configures CreateRecord.
type RecordOption func(*recordConfig)

type recordConfig struct {
	field   string
	stamp   func(doc json.RawMessage, recid string) (json.RawMessage, error)
	objType string
}

// WithRecidField makes CreateRecord write the recid, as a JSON string, into
// the top-level field name instead of DefaultRecidField.
func WithRecidField(name string) RecordOption {
	return func(c *recordConfig) { c.field = name }
}

// WithRecidStamp replaces the way CreateRecord puts the recid into the
// document: stamp gets the document and the minted value and returns the
// document to store (to write it somewhere else than a top-level field, or
// as a number).
func WithRecidStamp(stamp func(doc json.RawMessage, recid string) (json.RawMessage, error)) RecordOption {
	return func(c *recordConfig) { c.stamp = stamp }
}

// CreateRecord mints the next recid and creates the record carrying it in
// revision 0, in one transaction (Invenio's minter pattern): the record's
// UUIDv7 is drawn first, the recid PID is minted registered and bound to
// it, the recid is written into the document (top-level "id" unless
// WithRecidField or WithRecidStamp say otherwise), and the document is
// validated and created with that id. If anything fails, nothing is stored
// and the recid is given back (recids stay gap-free).
//
// Run in the caller's transaction with a WithTx view of s; recs is used
// through a view of the same transaction whatever view it is.
func (s *Store) CreateRecord(ctx context.Context, recs *records.Store, doc json.RawMessage, opts ...RecordOption) (*records.Record, *PID, error) {
	cfg := recordConfig{field: DefaultRecidField, objType: ObjectRecord}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.stamp == nil {
		cfg.stamp = stampField(cfg.field)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, nil, fmt.Errorf("pid: new record id: %w", err)
	}
	var (
		rec   *records.Record
		recid *PID
	)
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		recid, err = s.WithTx(tx).MintRecid(ctx, cfg.objType, id)
		if err != nil {
			return err
		}
		stamped, err := cfg.stamp(doc, recid.Value)
		if err != nil {
			return err
		}
		rec, err = recs.WithTx(tx).Create(ctx, stamped, records.WithID(id))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return rec, recid, nil
}

// stampField returns a stamp writing the recid into a top-level field.
func stampField(field string) func(json.RawMessage, string) (json.RawMessage, error) {
	return func(doc json.RawMessage, recid string) (json.RawMessage, error) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(doc, &obj); err != nil || obj == nil {
			return nil, fmt.Errorf("%w: not a JSON object", records.ErrInvalid)
		}
		v, _ := json.Marshal(recid)
		obj[field] = v
		return json.Marshal(obj)
	}
}
