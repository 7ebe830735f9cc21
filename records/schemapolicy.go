package records

import (
	"fmt"

	"github.com/repokit/repokit"
)

// ErrNoSchema: the document names no "$schema" and the store requires one
// (WithRequiredSchema). It matches ErrInvalid.
var ErrNoSchema = repokit.NewError(`records: document has no "$schema"`, ErrInvalid)

// WithDefaultSchema makes documents that name no "$schema" be validated
// against the schema registered under uri (WithSchema or RegisterSchema;
// New fails with ErrUnknownSchema if it is not). The document is stored as
// given: add "$schema" yourself if records should keep naming the schema
// they were checked against after the default changes.
func WithDefaultSchema(uri string) Option {
	return func(c *config) { c.defaultSchema = uri }
}

// WithRequiredSchema makes documents that name no "$schema" fail with
// ErrNoSchema (unless WithDefaultSchema gives one to check them against).
// Without it such documents are stored unchecked even when schemas are
// registered.
func WithRequiredSchema() Option {
	return func(c *config) { c.requireSchema = true }
}

// schemaPolicy reports whether documents without "$schema" need parsing.
func (c *core) schemaPolicy() bool { return c.defaultSchema != "" || c.requireSchema }

// validateWithoutSchema applies the policy to a parsed document that has
// no "$schema".
func (c *core) validateWithoutSchema(v any) error {
	if c.defaultSchema != "" {
		return c.schemas.validate(c.defaultSchema, v)
	}
	if c.requireSchema {
		return ErrNoSchema
	}
	return nil
}

// checkSchemaPolicy fails New when the default schema is not registered.
func (c *core) checkSchemaPolicy() error {
	if c.defaultSchema == "" {
		return nil
	}
	for _, u := range c.schemas.uris() {
		if u == c.defaultSchema {
			return nil
		}
	}
	return fmt.Errorf("%w: default schema %s is not registered (pass it with WithSchema)", ErrUnknownSchema, c.defaultSchema)
}
