package osfake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The routes and behaviour below serve the OpenSearch API spec's test
// stories, which lean on cluster defaults the driver never uses: /_bulk
// with the index in each action, /{index}/_doc, automatic index creation
// and dynamic mapping (strings become text with a .keyword sub-field, or
// date when they parse as one; integers long, decimals float).

var idSeq int64

func nextID() string {
	idSeq++
	return fmt.Sprintf("osfake%016x", time.Now().UnixNano()+idSeq)
}

// moreRoute reports whether serveMore handles the request.
func (s *Server) moreRoute(method string, parts []string) bool {
	switch {
	case len(parts) == 2 && parts[1] == "_bulk" && (method == "POST" || method == "PUT") && !strings.HasPrefix(parts[0], "_"):
		// the driver's bulk (index exists) stays on the original route
		s.mu.Lock()
		_, isIndex := s.indices[parts[0]]
		_, isAlias := s.aliases[parts[0]]
		s.mu.Unlock()
		return !isIndex && !isAlias
	case len(parts) == 1 && method == "DELETE" && strings.Contains(parts[0], ","):
		return true
	case len(parts) == 1 && parts[0] == "_bulk" && (method == "POST" || method == "PUT"):
		return true
	case len(parts) == 2 && parts[1] == "_doc" && method == "POST" && !strings.HasPrefix(parts[0], "_"):
		return true
	case len(parts) == 3 && parts[1] == "_doc" && !strings.HasPrefix(parts[0], "_"):
		return true
	}
	return false
}

func (s *Server) serveMore(method string, parts []string, q url.Values, body []byte) (int, any, *httpError) {
	if len(parts) == 1 && method == "DELETE" {
		names := strings.Split(parts[0], ",")
		s.mu.Lock()
		for _, n := range names {
			if _, ok := s.indices[n]; !ok {
				s.mu.Unlock()
				return 0, nil, errf(404, "index_not_found_exception", "no such index [%s]", n)
			}
		}
		s.mu.Unlock()
		for _, n := range names {
			if _, _, e := s.deleteIndex(n); e != nil {
				return 0, nil, e
			}
		}
		return 200, map[string]any{"acknowledged": true}, nil
	}
	if len(parts) == 1 {
		return s.bulkAny("", q, body)
	}
	name := parts[0]
	if parts[1] == "_bulk" {
		return s.bulkAny(name, q, body)
	}
	if len(parts) == 3 && method == "GET" {
		return s.getDoc(name, parts[2])
	}
	if len(parts) == 3 && method == "DELETE" {
		st, out, e := s.bulkAny(name, q, []byte(fmt.Sprintf("{\"delete\":{\"_index\":%q,\"_id\":%q}}\n", name, parts[2])))
		if e != nil {
			return st, out, e
		}
		return oneItem(out)
	}
	if len(parts) == 3 && method != "PUT" && method != "POST" {
		return 0, nil, errf(405, "method_not_allowed", "%s not allowed on a document", method)
	}
	id := ""
	if len(parts) == 3 {
		id = parts[2]
	}
	meta, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": name, "_id": id}})
	st, out, e := s.bulkAny(name, q, append(append(meta, '\n'), append(bytes.TrimSpace(body), '\n')...))
	if e != nil {
		return st, out, e
	}
	return oneItem(out)
}

func oneItem(out any) (int, any, *httpError) {
	items, _ := out.(map[string]any)["items"].([]any)
	if len(items) != 1 {
		return 0, nil, errf(500, "exception", "osfake: no bulk item")
	}
	for _, v := range items[0].(map[string]any) {
		item := v.(map[string]any)
		st, _ := item["status"].(int)
		if e, ok := item["error"].(map[string]any); ok {
			return 0, nil, errf(st, fmt.Sprint(e["type"]), "%v", e["reason"])
		}
		delete(item, "status")
		item["_shards"] = map[string]any{"total": 2, "successful": 1, "failed": 0}
		return st, item, nil
	}
	return 0, nil, nil
}

func (s *Server) getDoc(name, id string) (int, any, *httpError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ixs, e := s.resolve(name)
	if e != nil {
		return 0, nil, e
	}
	for _, ix := range ixs {
		if d := ix.live[id]; d != nil {
			return 200, map[string]any{"_index": ix.name, "_id": id, "_version": d.version, "found": true, "_source": d.source}, nil
		}
	}
	return 404, map[string]any{"_index": name, "_id": id, "found": false}, nil
}

// bulkAny serves /_bulk (and /{index}/_bulk on a missing index, defIndex):
// runs of actions on the same index go to that
// index's bulk, creating missing indices and mapping new fields first.
func (s *Server) bulkAny(defIndex string, q url.Values, body []byte) (int, any, *httpError) {
	type run struct {
		index string
		buf   bytes.Buffer
	}
	var runs []*run
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 100<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var action map[string]map[string]any
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			return 0, nil, errf(400, "illegal_argument_exception", "Malformed action/metadata line [%s]", line)
		}
		for verb, meta := range action {
			idx, _ := meta["_index"].(string)
			if idx == "" {
				idx = defIndex
				meta["_index"] = idx
			}
			if idx == "" {
				return 0, nil, errf(400, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
			}
			if meta["_id"] == nil || meta["_id"] == "" {
				meta["_id"] = nextID()
			}
			if len(runs) == 0 || runs[len(runs)-1].index != idx {
				runs = append(runs, &run{index: idx})
			}
			r := runs[len(runs)-1]
			b, _ := json.Marshal(action)
			r.buf.Write(append(b, '\n'))
			if verb != "delete" {
				if !sc.Scan() {
					return 0, nil, errf(400, "illegal_argument_exception", "The bulk request must be terminated by a newline")
				}
				src := append([]byte(nil), bytes.TrimSpace(sc.Bytes())...)
				if e := s.dynamicMap(idx, src); e != nil {
					return 0, nil, e
				}
				r.buf.Write(append(src, '\n'))
			}
		}
	}
	var items []any
	hasErr := false
	for _, r := range runs {
		_, out, _, _, e := s.bulk(r.index, q, r.buf.Bytes())
		if e != nil {
			return 0, nil, e
		}
		m := out.(map[string]any)
		items = append(items, m["items"].([]any)...)
		hasErr = hasErr || m["errors"] == true
	}
	return 200, map[string]any{"took": 1, "errors": hasErr, "items": items}, nil
}

// dynamicMap creates index name if missing and maps the unmapped fields of
// src, unless the mapping says "dynamic": false or "strict".
func (s *Server) dynamicMap(name string, src []byte) *httpError {
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader(src))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return nil // the bulk item reports it
	}
	s.mu.Lock()
	_, isIndex := s.indices[name]
	_, isAlias := s.aliases[name]
	s.mu.Unlock()
	if !isIndex && !isAlias {
		if _, _, e := s.createIndex(name, nil); e != nil && e.typ != "resource_already_exists_exception" {
			return e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[name]
	if ix == nil {
		return nil // an alias: no dynamic mapping through it here
	}
	if dyn := fmt.Sprint(ix.mappings["dynamic"]); dyn == "false" || dyn == "strict" {
		return nil
	}
	props, _ := ix.mappings["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		ix.mappings["properties"] = props
	}
	addDynamic(props, doc, "", ix.fields)
	return nil
}

func addDynamic(props map[string]any, doc map[string]any, prefix string, fields map[string]string) {
	for k, v := range doc {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if arr, ok := v.([]any); ok {
			if len(arr) == 0 {
				continue
			}
			v = arr[0]
		}
		if sub, ok := v.(map[string]any); ok {
			if fields[path] != "" && fields[path] != "object" {
				continue
			}
			p, _ := props[k].(map[string]any)
			if p == nil {
				p = map[string]any{"properties": map[string]any{}}
				props[k] = p
			}
			pp, _ := p["properties"].(map[string]any)
			if pp == nil {
				pp = map[string]any{}
				p["properties"] = pp
			}
			addDynamic(pp, sub, path, fields)
			continue
		}
		if _, mapped := fields[path]; mapped || v == nil {
			continue
		}
		var m map[string]any
		switch x := v.(type) {
		case bool:
			m = map[string]any{"type": "boolean"}
		case json.Number:
			if _, err := x.Int64(); err == nil {
				m = map[string]any{"type": "long"}
			} else {
				m = map[string]any{"type": "float"}
			}
		case string:
			if _, ok := toTime(x); ok && len(x) >= 10 && strings.Count(x, "-") >= 2 {
				m = map[string]any{"type": "date"}
			} else {
				m = map[string]any{"type": "text", "fields": map[string]any{"keyword": map[string]any{"type": "keyword", "ignore_above": 256}}}
				fields[path+".keyword"] = "keyword"
			}
		default:
			continue
		}
		props[k] = m
		fields[path] = m["type"].(string)
	}
}
