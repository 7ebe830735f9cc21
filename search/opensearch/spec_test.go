package opensearch_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
)

// SpecEnv names the folder holding OpenSearch's OpenAPI specification and
// test stories (github.com/opensearch-project/opensearch-api-specification).
// The spec is not part of the project; CI sets it (.ci/services/
// opensearch-spec.sh); without it the spec tests skip like a missing
// service (and fail under REPOKIT_TEST_REQUIRE_SERVICES=1).
const SpecEnv = "REPOKIT_TEST_OPENSEARCH_SPEC"

func specDir(t *testing.T) string {
	t.Helper()
	return sqldbtest.ServiceURL(t, SpecEnv)
}

// oneOfAsAnyOf rewrites oneOf as anyOf: the spec uses oneOf where its
// alternatives overlap (a field sort {"_id": {"order": "asc"}} matches two
// of SortCombinations' alternatives), meaning "one of these forms", which
// is anyOf in JSON Schema.
func oneOfAsAnyOf(v any) {
	switch x := v.(type) {
	case map[string]any:
		if o, ok := x["oneOf"]; ok {
			if _, clash := x["anyOf"]; !clash {
				delete(x, "oneOf")
				x["anyOf"] = o
			}
		}
		for _, e := range x {
			oneOfAsAnyOf(e)
		}
	case []any:
		for _, e := range x {
			oneOfAsAnyOf(e)
		}
	}
}

// normYAML turns yaml.v3's generic values into JSON-shaped ones.
func normYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normYAML(e)
		}
		return x
	case map[any]any:
		o := make(map[string]any, len(x))
		for k, e := range x {
			o[fmt.Sprint(k)] = normYAML(e)
		}
		return o
	case []any:
		for i, e := range x {
			x[i] = normYAML(e)
		}
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return v
}

func readYAML(path string) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return normYAML(v), nil
}

type specParam struct {
	name, in  string
	required  bool
	schemaURL string
}

type specOp struct {
	id, method, path string
	re               *regexp.Regexp
	literal          int // literal characters: more specific templates win
	params           map[string]specParam
	bodyURL          string // JSON body schema ("" = no body allowed)
	bodyNDJSON       bool
	bodyRequired     bool
	responses        map[string]string // status → JSON schema URL
}

// openAPI is the loaded specification: operations and a JSON Schema
// compiler holding every spec file as a resource (so that $refs across
// files resolve).
type openAPI struct {
	ops     []*specOp
	global  map[string]specParam
	mu      sync.Mutex
	comp    *jsonschema.Compiler
	schemas map[string]*jsonschema.Schema
}

var (
	specOnce   sync.Once
	loadedSpec *openAPI
	specErr    error
)

func loadSpec(t *testing.T) *openAPI {
	t.Helper()
	dir := specDir(t)
	specOnce.Do(func() { loadedSpec, specErr = readSpec(filepath.Join(dir, "spec")) })
	if specErr != nil {
		t.Fatal(specErr)
	}
	return loadedSpec
}

func fileURL(rel string) string { return "file:///spec/" + filepath.ToSlash(rel) }

func readSpec(root string) (*openAPI, error) {
	api := &openAPI{global: map[string]specParam{}, comp: jsonschema.NewCompiler(), schemas: map[string]*jsonschema.Schema{}}
	api.comp.DefaultDraft(jsonschema.Draft2020)
	docs := map[string]map[string]any{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		v, err := readYAML(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m, _ := v.(map[string]any)
		delete(m, "$schema")
		oneOfAsAnyOf(m)
		docs[rel] = m
		return api.comp.AddResource(fileURL(rel), m)
	})
	if err != nil {
		return nil, err
	}
	get := func(m any, keys ...string) any {
		for _, k := range keys {
			mm, ok := m.(map[string]any)
			if !ok {
				return nil
			}
			m = mm[k]
		}
		return m
	}
	// a local ref "#/components/parameters/x" of file rel
	deref := func(rel string, v any) (string, map[string]any) {
		if r, ok := get(v, "$ref").(string); ok && strings.HasPrefix(r, "#/") {
			var cur any = docs[rel]
			for _, k := range strings.Split(r[2:], "/") {
				cur = get(cur, strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~"))
			}
			m, _ := cur.(map[string]any)
			return fileURL(rel) + r, m
		}
		m, _ := v.(map[string]any)
		return "", m
	}
	param := func(rel string, v any) specParam {
		u, m := deref(rel, v)
		p := specParam{name: fmt.Sprint(m["name"]), in: fmt.Sprint(m["in"])}
		p.required, _ = m["required"].(bool)
		if u != "" {
			p.schemaURL = u + "/schema"
		}
		return p
	}
	for name, p := range get(docs["_global_parameters.yaml"], "components", "parameters").(map[string]any) {
		api.global[fmt.Sprint(get(p, "name"))] = specParam{name: fmt.Sprint(get(p, "name")), in: "query",
			schemaURL: fileURL("_global_parameters.yaml") + "#/components/parameters/" + name + "/schema"}
	}
	for rel, doc := range docs {
		if !strings.HasPrefix(rel, "namespaces"+string(filepath.Separator)) {
			continue
		}
		paths, _ := doc["paths"].(map[string]any)
		for path, item := range paths {
			for method, raw := range item.(map[string]any) {
				op, _ := raw.(map[string]any)
				if op == nil {
					continue
				}
				so := &specOp{id: fmt.Sprint(op["operationId"]), method: strings.ToUpper(method), path: path, params: map[string]specParam{}, responses: map[string]string{}}
				if rs, ok := op["responses"].(map[string]any); ok {
					for code, r := range rs {
						u, m := deref(rel, r)
						if u != "" && get(m, "content", "application/json", "schema") != nil {
							so.responses[code] = u + "/content/application~1json/schema"
						}
					}
				}
				pat := regexp.QuoteMeta(path)
				pat = regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(pat, `([^/]+)`)
				so.re = regexp.MustCompile("^" + pat + "$")
				so.literal = len(regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, ""))
				ps, _ := op["parameters"].([]any)
				for _, p := range ps {
					sp := param(rel, p)
					so.params[sp.name] = sp
				}
				if rb := op["requestBody"]; rb != nil {
					u, m := deref(rel, rb)
					so.bodyRequired, _ = m["required"].(bool)
					if get(m, "content", "application/json") != nil {
						so.bodyURL = u + "/content/application~1json/schema"
					} else if get(m, "content", "application/x-ndjson") != nil {
						so.bodyURL = u + "/content/application~1x-ndjson/schema"
						so.bodyNDJSON = true
					}
				}
				api.ops = append(api.ops, so)
			}
		}
	}
	sort.Slice(api.ops, func(i, j int) bool { return api.ops[i].literal > api.ops[j].literal })
	return api, nil
}

func (api *openAPI) schema(u string) (*jsonschema.Schema, error) {
	api.mu.Lock()
	defer api.mu.Unlock()
	if s, ok := api.schemas[u]; ok {
		return s, nil
	}
	s, err := api.comp.Compile(u)
	if err != nil {
		return nil, err
	}
	api.schemas[u] = s
	return s, nil
}

// find returns the operation serving method and path.
func (api *openAPI) find(method, path string) (*specOp, []string) {
	for _, op := range api.ops {
		if op.method != method {
			continue
		}
		if m := op.re.FindStringSubmatch(path); m != nil {
			return op, m[1:]
		}
	}
	return nil, nil
}

func jsonValue(b []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// check validates one request against the spec: a declared operation, its
// path parameters, declared query parameters with values of their schema,
// and the body against the request body schema.
func (api *openAPI) check(method, path, rawQuery string, body []byte) error {
	op, _ := api.find(method, path)
	if op == nil {
		return fmt.Errorf("%s %s: no such operation in the spec", method, path)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("%s %s: query: %v", method, path, err)
	}
	for name, vals := range q {
		p, ok := op.params[name]
		if !ok || p.in != "query" {
			if p, ok = api.global[name]; !ok {
				return fmt.Errorf("%s (%s %s): query parameter %q is not in the spec", op.id, method, op.path, name)
			}
		}
		for _, v := range vals {
			if err := api.checkParam(p, v); err != nil {
				return fmt.Errorf("%s: query parameter %s=%q: %v", op.id, name, v, err)
			}
		}
	}
	for name, p := range op.params {
		if p.in == "query" && p.required && !q.Has(name) {
			return fmt.Errorf("%s: required query parameter %s missing", op.id, name)
		}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if op.bodyRequired {
			return fmt.Errorf("%s: request body required", op.id)
		}
		return nil
	}
	if op.bodyURL == "" {
		return fmt.Errorf("%s (%s %s): the spec defines no request body", op.id, method, op.path)
	}
	var inst any
	if op.bodyNDJSON {
		if !strings.HasPrefix(op.id, "bulk.") {
			return fmt.Errorf("%s: ndjson body not checked", op.id)
		}
		var lines []any
		for _, l := range bytes.Split(body, []byte("\n")) {
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			v, err := jsonValue(l)
			if err != nil {
				return fmt.Errorf("%s: ndjson line: %v", op.id, err)
			}
			lines = append(lines, v)
		}
		// action lines must be OperationContainers (the schema of the whole
		// array also admits any object, which would check nothing)
		{
			s, err := api.schema(fileURL("schemas/_core.bulk.yaml") + "#/components/schemas/OperationContainer")
			if err != nil {
				return err
			}
			for i := 0; i < len(lines); i++ {
				if err := s.Validate(lines[i]); err != nil {
					return fmt.Errorf("%s: bulk action line %d: %v", op.id, i, err)
				}
				if m, _ := lines[i].(map[string]any); m != nil && m["delete"] == nil {
					i++ // skip the document line
				}
			}
		}
		// document lines are free-form objects (the suite sends a bad one on
		// purpose to test per-item failures): only the actions are checked
		return nil
	} else if inst, err = jsonValue(body); err != nil {
		return fmt.Errorf("%s: body is not JSON: %v", op.id, err)
	}
	s, err := api.schema(op.bodyURL)
	if err != nil {
		return fmt.Errorf("%s: compile body schema: %v", op.id, err)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("%s (%s %s): body does not match the spec: %v\nbody: %s", op.id, method, op.path, err, truncate(body))
	}
	return nil
}

// checkResponse validates a JSON response against the operation's
// response schema for its status (statuses the spec does not describe
// are reported as such).
func (api *openAPI) checkResponse(method, path string, status int, body []byte) error {
	op, _ := api.find(method, path)
	if op == nil {
		return fmt.Errorf("%s %s: no such operation in the spec", method, path)
	}
	if method == "HEAD" || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	u, ok := op.responses[strconv.Itoa(status)]
	if !ok {
		if status >= 400 {
			return nil // error shapes are described for some operations only
		}
		return fmt.Errorf("%s: the spec describes no %d response", op.id, status)
	}
	s, err := api.schema(u)
	if err != nil {
		return fmt.Errorf("%s: compile response schema: %v", op.id, err)
	}
	inst, err := jsonValue(body)
	if err != nil {
		return fmt.Errorf("%s: response is not JSON: %v", op.id, err)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("%s (%s %s) %d response does not match the spec: %v\nresponse: %s", op.id, method, op.path, status, err, truncate(body))
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func (api *openAPI) checkParam(p specParam, v string) error {
	if p.schemaURL == "" {
		return nil
	}
	s, err := api.schema(p.schemaURL)
	if err != nil {
		return err
	}
	// a query value is a string; try it as the JSON value it stands for
	cands := []any{v}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		cands = append(cands, json.Number(strconv.FormatFloat(f, 'f', -1, 64)))
	}
	if b, err := strconv.ParseBool(v); err == nil {
		cands = append(cands, b)
	}
	if strings.Contains(v, ",") {
		var arr []any
		for _, e := range strings.Split(v, ",") {
			arr = append(arr, e)
		}
		cands = append(cands, arr)
	}
	var first error
	for _, c := range cands {
		if err := s.Validate(c); err == nil {
			return nil
		} else if first == nil {
			first = err
		}
	}
	return first
}
