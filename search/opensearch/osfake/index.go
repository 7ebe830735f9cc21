package osfake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

type doc struct {
	id      string
	seqNo   int64 // the index's sequence number of the write (primary term is always 1)
	version int64
	source  json.RawMessage
	parsed  map[string]any
}

type verEntry struct {
	v       int64
	deleted bool
}

type index struct {
	name     string
	mappings map[string]any
	settings json.RawMessage
	fields   map[string]string // path → OpenSearch type
	// analyzers of text fields
	analyzers map[string]anaSpec
	// lastRefresh: writes become visible to a search once a refresh
	// interval (index.refresh_interval, 1s) has passed since the last
	// refresh, as OpenSearch's periodic refresh does
	lastRefresh time.Time
	live        map[string]*doc
	visible     map[string]*doc
	dirty       map[string]bool
	versions    map[string]verEntry
	created     time.Time
	seq         int64 // next sequence number
}

type pit struct {
	docs    []*doc
	indices map[string]bool
}

func validIndexName(n string) bool {
	if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, `\/*?"<>| ,#:`) || strings.HasPrefix(n, "_") || strings.HasPrefix(n, "-") || strings.HasPrefix(n, "+") {
		return false
	}
	return len(n) <= 255
}

var knownTypes = map[string]bool{
	"text": true, "keyword": true, "date": true, "long": true, "integer": true, "short": true, "byte": true,
	"double": true, "float": true, "half_float": true, "scaled_float": true, "boolean": true, "object": true, "nested": true,
	"match_only_text": true, "unsigned_long": true, "date_nanos": true, "constant_keyword": true, "wildcard": true,
	"geo_point": true,
}

// fieldsOf flattens mapping properties to path → type.
func fieldsOf(props map[string]any, prefix string, out map[string]string) *httpError {
	for name, raw := range props {
		p, ok := raw.(map[string]any)
		if !ok {
			return errf(400, "mapper_parsing_exception", "mapping of [%s] is not an object", name)
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		typ, _ := p["type"].(string)
		if sub, ok := p["properties"].(map[string]any); ok && (typ == "" || typ == "object" || typ == "nested") {
			if e := fieldsOf(sub, path, out); e != nil {
				return e
			}
			continue
		}
		if typ == "" {
			typ = "object"
		}
		if !knownTypes[typ] {
			return errf(400, "mapper_parsing_exception", "No handler for type [%s] declared on field [%s]", typ, path)
		}
		out[path] = typ
		if mf, ok := p["fields"].(map[string]any); ok {
			for sub, raw := range mf {
				if sm, ok := raw.(map[string]any); ok {
					if st, _ := sm["type"].(string); knownTypes[st] {
						out[path+"."+sub] = st
					}
				}
			}
		}
	}
	return nil
}

func propsOf(m map[string]any) map[string]any {
	p, _ := m["properties"].(map[string]any)
	return p
}

func (s *Server) createIndex(name string, body []byte) (int, any, *httpError) {
	var req struct {
		Settings json.RawMessage           `json:"settings"`
		Mappings map[string]any            `json:"mappings"`
		Aliases  map[string]map[string]any `json:"aliases"`
	}
	if e := decodeBody(body, &req); e != nil {
		return 0, nil, e
	}
	if !validIndexName(name) {
		return 0, nil, errf(400, "invalid_index_name_exception", "Invalid index name [%s]", name)
	}
	fields := map[string]string{}
	if req.Mappings == nil {
		req.Mappings = map[string]any{}
	}
	if e := fieldsOf(propsOf(req.Mappings), "", fields); e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.indices[name]; ok {
		return 0, nil, errf(400, "resource_already_exists_exception", "index [%s] already exists", name)
	}
	if _, ok := s.aliases[name]; ok {
		return 0, nil, errf(400, "invalid_index_name_exception", "Invalid index name [%s], already exists as alias", name)
	}
	analyzers := map[string]anaSpec{}
	if e := analyzersOf(propsOf(req.Mappings), "", req.Settings, analyzers); e != nil {
		return 0, nil, e
	}
	s.indices[name] = &index{name: name, mappings: req.Mappings, settings: req.Settings, fields: fields, analyzers: analyzers,
		live: map[string]*doc{}, visible: map[string]*doc{}, dirty: map[string]bool{}, versions: map[string]verEntry{}, created: time.Now(), lastRefresh: time.Now()}
	for a := range req.Aliases {
		if s.aliases[a] == nil {
			s.aliases[a] = map[string]bool{}
		}
		s.aliases[a][name] = true
	}
	return 200, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name}, nil
}

func (s *Server) deleteIndex(name string) (int, any, *httpError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.indices[name]; !ok {
		if _, isAlias := s.aliases[name]; isAlias {
			return 0, nil, errf(400, "illegal_argument_exception", "The provided expression [%s] matches an alias, specify the corresponding concrete indices instead.", name)
		}
		return 0, nil, errf(404, "index_not_found_exception", "no such index [%s]", name)
	}
	delete(s.indices, name)
	for a, set := range s.aliases {
		delete(set, name)
		if len(set) == 0 {
			delete(s.aliases, a)
		}
	}
	return 200, map[string]any{"acknowledged": true}, nil
}

// resolve returns the concrete indices of an index or alias name. s.mu held.
func (s *Server) resolve(name string) ([]*index, *httpError) {
	if ix, ok := s.indices[name]; ok {
		return []*index{ix}, nil
	}
	if set, ok := s.aliases[name]; ok {
		var names []string
		for n := range set {
			names = append(names, n)
		}
		sort.Strings(names)
		out := make([]*index, 0, len(names))
		for _, n := range names {
			out = append(out, s.indices[n])
		}
		return out, nil
	}
	return nil, errf(404, "index_not_found_exception", "no such index [%s]", name)
}

func (s *Server) getMapping(name string) (int, any, *httpError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ixs, e := s.resolve(name)
	if e != nil {
		return 0, nil, e
	}
	out := map[string]any{}
	for _, ix := range ixs {
		out[ix.name] = map[string]any{"mappings": ix.mappings}
	}
	return 200, out, nil
}

// mergeProps merges new properties into old; a type change is an error.
func mergeProps(old, upd map[string]any, prefix string) *httpError {
	for name, raw := range upd {
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		nm, _ := raw.(map[string]any)
		om, exists := old[name].(map[string]any)
		if !exists {
			old[name] = raw
			continue
		}
		ot, _ := om["type"].(string)
		nt, _ := nm["type"].(string)
		if ot != nt && !(ot == "" && nt == "object") && !(nt == "" && ot == "object") {
			return errf(400, "illegal_argument_exception", "mapper [%s] cannot be changed from type [%s] to [%s]", path, ot, nt)
		}
		if op, ok := om["properties"].(map[string]any); ok {
			if np, ok := nm["properties"].(map[string]any); ok {
				if e := mergeProps(op, np, path); e != nil {
					return e
				}
			}
		}
	}
	return nil
}

func (s *Server) putMapping(name string, body []byte) (int, any, *httpError) {
	var upd map[string]any
	if e := decodeBody(body, &upd); e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ixs, e := s.resolve(name)
	if e != nil {
		return 0, nil, e
	}
	for _, ix := range ixs {
		// validate on a copy first
		cp, _ := json.Marshal(ix.mappings)
		var trial map[string]any
		d := json.NewDecoder(bytes.NewReader(cp))
		d.UseNumber()
		_ = d.Decode(&trial)
		if trial == nil {
			trial = map[string]any{}
		}
		if trial["properties"] == nil {
			trial["properties"] = map[string]any{}
		}
		if e := mergeProps(trial["properties"].(map[string]any), propsOf(upd), ""); e != nil {
			return 0, nil, e
		}
		for k, v := range upd {
			if k != "properties" {
				trial[k] = v
			}
		}
		fields := map[string]string{}
		if e := fieldsOf(propsOf(trial), "", fields); e != nil {
			return 0, nil, e
		}
		analyzers := map[string]anaSpec{}
		if e := analyzersOf(propsOf(trial), "", ix.settings, analyzers); e != nil {
			return 0, nil, e
		}
		ix.mappings, ix.fields, ix.analyzers = trial, fields, analyzers
	}
	return 200, map[string]any{"acknowledged": true}, nil
}

func (s *Server) getAlias(name string) (int, any, *httpError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set, ok := s.aliases[name]
	if !ok {
		return 0, nil, errf(404, "aliases_not_found_exception", "alias [%s] missing", name)
	}
	out := map[string]any{}
	for n := range set {
		out[n] = map[string]any{"aliases": map[string]any{name: map[string]any{}}}
	}
	return 200, out, nil
}

func (s *Server) updateAliases(body []byte) (int, any, *httpError) {
	var req struct {
		Actions []map[string]struct {
			Index string `json:"index"`
			Alias string `json:"alias"`
		} `json:"actions"`
	}
	if e := decodeBody(body, &req); e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// validate everything first: the actions apply atomically
	for _, a := range req.Actions {
		for verb, act := range a {
			if _, ok := s.indices[act.Index]; !ok {
				return 0, nil, errf(404, "index_not_found_exception", "no such index [%s]", act.Index)
			}
			switch verb {
			case "add":
				if _, ok := s.indices[act.Alias]; ok {
					return 0, nil, errf(400, "invalid_alias_name_exception", "an index exists with the same name as the alias [%s]", act.Alias)
				}
			case "remove":
				if !s.aliases[act.Alias][act.Index] {
					return 0, nil, errf(404, "aliases_not_found_exception", "aliases [%s] missing", act.Alias)
				}
			default:
				return 0, nil, errf(400, "illegal_argument_exception", "unknown alias action [%s]", verb)
			}
		}
	}
	for _, a := range req.Actions {
		for verb, act := range a {
			switch verb {
			case "add":
				if s.aliases[act.Alias] == nil {
					s.aliases[act.Alias] = map[string]bool{}
				}
				s.aliases[act.Alias][act.Index] = true
			case "remove":
				delete(s.aliases[act.Alias], act.Index)
				if len(s.aliases[act.Alias]) == 0 {
					delete(s.aliases, act.Alias)
				}
			}
		}
	}
	return 200, map[string]any{"acknowledged": true}, nil
}

// autoRefresh refreshes the index when a refresh interval has passed.
func (ix *index) autoRefresh(every time.Duration) {
	if every == 0 {
		every = time.Second
	}
	if every > 0 && len(ix.dirty) > 0 && time.Since(ix.lastRefresh) >= every {
		ix.refresh()
	}
}

func (ix *index) refresh() {
	ix.lastRefresh = time.Now()
	for id := range ix.dirty {
		if d := ix.live[id]; d != nil {
			ix.visible[id] = d
		} else {
			delete(ix.visible, id)
		}
	}
	ix.dirty = map[string]bool{}
}

func (s *Server) refresh(name string) (int, any, *httpError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ixs, e := s.resolve(name)
	if e != nil {
		return 0, nil, e
	}
	for _, ix := range ixs {
		ix.refresh()
	}
	return 200, map[string]any{"_shards": map[string]any{"total": len(ixs), "successful": len(ixs), "failed": 0}}, nil
}

type bulkMeta struct {
	ID          string      `json:"_id"`
	Index       string      `json:"_index"`
	Version     json.Number `json:"version"`
	VersionType string      `json:"version_type"`
}

func (s *Server) bulk(name string, q url.Values, body []byte) (int, any, string, int, *httpError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ixs, e := s.resolve(name)
	if e != nil {
		return 0, nil, "", 0, e
	}
	if len(ixs) != 1 {
		return 0, nil, "", 0, errf(400, "illegal_argument_exception", "no write index is defined for alias [%s]", name)
	}
	ix := ixs[0]
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 100<<20)
	var items []any
	hasErr := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var action map[string]bulkMeta
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&action); err != nil || len(action) != 1 {
			return 0, nil, "", 0, errf(400, "illegal_argument_exception", "Malformed action/metadata line [%s]", line)
		}
		for verb, meta := range action {
			var src []byte
			if verb == "index" || verb == "create" {
				if !sc.Scan() {
					return 0, nil, "", 0, errf(400, "illegal_argument_exception", "The bulk request must be terminated by a newline")
				}
				src = append([]byte(nil), sc.Bytes()...)
			} else if verb != "delete" {
				if verb == "update" {
					return 0, nil, "", 0, errf(400, "illegal_argument_exception", "osfake does not implement bulk update")
				}
				return 0, nil, "", 0, errf(400, "illegal_argument_exception", "Malformed action/metadata line, expected one of [create, delete, index, update] but found [%s]", verb)
			}
			item := ix.apply(verb, meta, src)
			if _, failed := item["error"]; failed {
				hasErr = true
			}
			items = append(items, map[string]any{verb: item})
		}
	}
	if err := sc.Err(); err != nil {
		return 0, nil, "", 0, errf(400, "parse_exception", "bulk body: %v", err)
	}
	if r := q.Get("refresh"); r == "true" || r == "wait_for" || r == "" && q.Has("refresh") {
		ix.refresh()
	}
	return 200, map[string]any{"took": 1, "errors": hasErr, "items": items}, ix.name, len(items), nil
}

func (ix *index) apply(verb string, meta bulkMeta, src []byte) map[string]any {
	item := map[string]any{"_index": ix.name, "_id": meta.ID}
	fail := func(status int, typ, reason string) map[string]any {
		if _, ok := item["_seq_no"]; ok { // a failed write takes no sequence number
			delete(item, "_seq_no")
			delete(item, "_primary_term")
			ix.seq--
		}
		item["status"] = status
		item["error"] = map[string]any{"type": typ, "reason": reason, "index": ix.name}
		return item
	}
	if meta.ID == "" {
		return fail(400, "action_request_validation_exception", "Validation Failed: 1: an id is required;")
	}
	external := meta.VersionType == "external_gte" || meta.VersionType == "external"
	var ver int64
	if external {
		v, err := strconv.ParseInt(meta.Version.String(), 10, 64)
		if err != nil || v < 0 {
			return fail(400, "action_request_validation_exception", "Validation Failed: 1: illegal version value ["+meta.Version.String()+"] for version type [external_gte];")
		}
		ver = v
	}
	cur, has := ix.versions[meta.ID]
	if external && has {
		stale := cur.v > ver
		if meta.VersionType == "external" {
			stale = cur.v >= ver
		}
		if stale {
			return fail(409, "version_conflict_engine_exception",
				fmt.Sprintf("[%s]: version conflict, current version [%d] is higher or equal to the one provided [%d]", meta.ID, cur.v, ver))
		}
	}
	if !external {
		ver = cur.v + 1
	}
	item["_seq_no"], item["_primary_term"] = ix.seq, 1
	ix.seq++
	switch verb {
	case "delete":
		ix.versions[meta.ID] = verEntry{v: ver, deleted: true}
		item["_version"] = ver
		if d := ix.live[meta.ID]; d != nil {
			delete(ix.live, meta.ID)
			ix.dirty[meta.ID] = true
			item["result"], item["status"] = "deleted", 200
		} else {
			item["result"], item["status"] = "not_found", 404
		}
		return item
	default:
		var parsed map[string]any
		d := json.NewDecoder(bytes.NewReader(src))
		d.UseNumber()
		if err := d.Decode(&parsed); err != nil || parsed == nil {
			return fail(400, "mapper_parsing_exception", "failed to parse: source is not a JSON object")
		}
		if err := checkTypes(parsed, "", ix.fields); err != nil {
			return fail(400, "mapper_parsing_exception", err.Error())
		}
		if verb == "create" && ix.live[meta.ID] != nil {
			return fail(409, "version_conflict_engine_exception", "["+meta.ID+"]: version conflict, document already exists")
		}
		existed := ix.live[meta.ID] != nil
		ix.live[meta.ID] = &doc{id: meta.ID, seqNo: ix.seq - 1, version: ver, source: json.RawMessage(src), parsed: parsed}
		ix.versions[meta.ID] = verEntry{v: ver}
		ix.dirty[meta.ID] = true
		item["_version"] = ver
		if existed {
			item["result"], item["status"] = "updated", 200
		} else {
			item["result"], item["status"] = "created", 201
		}
		return item
	}
}

// checkTypes rejects values that cannot be parsed as their mapped type.
func checkTypes(m map[string]any, prefix string, fields map[string]string) error {
	for k, v := range m {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		typ, mapped := fields[path]
		if mapped && typ == "geo_point" {
			if len(pointsOf(map[string]any{"v": v}, &index{fields: map[string]string{"v": "geo_point"}}, "v")) == 0 && v != nil {
				return fmt.Errorf("failed to parse field [%s] of type [geo_point]", path)
			}
			continue
		}
		vals := []any{v}
		if arr, ok := v.([]any); ok {
			vals = arr
		}
		for _, x := range vals {
			if sub, ok := x.(map[string]any); ok {
				if mapped && typ != "object" && typ != "nested" {
					return fmt.Errorf("failed to parse field [%s] of type [%s]: got an object", path, typ)
				}
				if err := checkTypes(sub, path, fields); err != nil {
					return err
				}
				continue
			}
			if !mapped || x == nil {
				continue
			}
			switch typ {
			case "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long":
				if _, ok := toFloat(x); !ok {
					return fmt.Errorf("failed to parse field [%s] of type [%s]: For input string: \"%v\"", path, typ, x)
				}
			case "boolean":
				switch b := x.(type) {
				case bool:
				case string:
					if b != "true" && b != "false" && b != "" {
						return fmt.Errorf("failed to parse field [%s] of type [boolean]: Failed to parse value [%s]", path, b)
					}
				default:
					return fmt.Errorf("failed to parse field [%s] of type [boolean]", path)
				}
			case "date", "date_nanos":
				if _, ok := toTime(x); !ok {
					return fmt.Errorf("failed to parse field [%s] of type [date]: failed to parse date field [%v]", path, x)
				}
			}
		}
	}
	return nil
}

func (s *Server) openPIT(name, keepAlive string) (int, any, *httpError) {
	if keepAlive == "" {
		return 0, nil, errf(400, "action_request_validation_exception", "Validation Failed: 1: keep_alive is missing;")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ixs, e := s.resolve(name)
	if e != nil {
		return 0, nil, e
	}
	p := &pit{indices: map[string]bool{}}
	for _, ix := range ixs {
		p.indices[ix.name] = true
		for _, d := range ix.visible {
			p.docs = append(p.docs, d)
		}
	}
	s.nextPIT++
	id := fmt.Sprintf("osfake-pit-%d", s.nextPIT)
	s.pits[id] = p
	return 200, map[string]any{"pit_id": id, "_shards": map[string]any{"total": 1, "successful": 1, "failed": 0}, "creation_time": time.Now().UnixMilli()}, nil
}

func (s *Server) deletePIT(body []byte) (int, any, *httpError) {
	var req struct {
		PITID []string `json:"pit_id"`
	}
	if e := decodeBody(body, &req); e != nil {
		return 0, nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []any
	for _, id := range req.PITID {
		_, ok := s.pits[id]
		delete(s.pits, id)
		out = append(out, map[string]any{"pit_id": id, "successful": ok})
	}
	return 200, map[string]any{"pits": out}, nil
}
