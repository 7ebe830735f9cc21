package records

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// RegisterSchema makes the JSON Schema doc known under uri: records whose
// "$schema" is uri are validated against it on create, update and revert.
// Schemas may $ref schemas registered before them. Remote or file
// references are never loaded. Registering a uri twice is an error.
func (s *Store) RegisterSchema(uri string, schema []byte) error {
	return s.c.schemas.register(uri, schema)
}

// Schemas returns the URIs of the registered schemas.
func (s *Store) Schemas() []string { return s.c.schemas.uris() }

type schemaRegistry struct {
	mu       sync.RWMutex
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
	sources  map[string]any
	order    []string
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("records: schema %s is not registered (remote schemas are not loaded)", url)
}

func newSchemaRegistry() *schemaRegistry {
	return &schemaRegistry{compiler: newCompiler(), compiled: map[string]*jsonschema.Schema{}, sources: map[string]any{}}
}

func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	c.AssertFormat()
	return c
}

func (r *schemaRegistry) register(uri string, doc []byte) error {
	if uri == "" {
		return errors.New("records: schema uri is empty")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("records: schema %s: %w", uri, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.compiled[uri]; dup {
		return fmt.Errorf("records: schema %s is already registered", uri)
	}
	if err := r.compiler.AddResource(uri, v); err != nil {
		return fmt.Errorf("records: schema %s: %w", uri, err)
	}
	sch, err := r.compiler.Compile(uri)
	if err != nil {
		// Forget the failed resource, so the uri can be registered again
		// once fixed: rebuild the compiler from the good schemas.
		r.compiler = newCompiler()
		for _, u := range r.order {
			_ = r.compiler.AddResource(u, r.sources[u])
		}
		return fmt.Errorf("records: compile schema %s: %w", uri, err)
	}
	r.compiled[uri] = sch
	r.sources[uri] = v
	r.order = append(r.order, uri)
	return nil
}

func (r *schemaRegistry) uris() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

func (r *schemaRegistry) validate(uri string, v any) error {
	r.mu.RLock()
	sch := r.compiled[uri]
	r.mu.RUnlock()
	if sch == nil {
		return fmt.Errorf("%w %q", ErrUnknownSchema, uri)
	}
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("%w: %v", ErrSchema, err)
	}
	out := &ValidationError{Schema: uri}
	collectLeaves(ve, &out.Errors)
	return out
}

// collectLeaves flattens the error tree into one FieldError per leaf.
func collectLeaves(e *jsonschema.ValidationError, out *[]FieldError) {
	if len(e.Causes) == 0 {
		msg := ""
		if u := e.BasicOutput(); u.Error != nil {
			msg = u.Error.String()
		}
		*out = append(*out, FieldError{Path: jsonPointer(e.InstanceLocation), Message: msg})
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out)
	}
}

func jsonPointer(tokens []string) string {
	var b bytes.Buffer
	for _, t := range tokens {
		b.WriteByte('/')
		for _, r := range t {
			switch r {
			case '~':
				b.WriteString("~0")
			case '/':
				b.WriteString("~1")
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}
