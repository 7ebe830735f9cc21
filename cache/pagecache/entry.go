package pagecache

import (
	"encoding/binary"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// entry is a cached response.
type entry struct {
	status int
	header http.Header
	body   []byte
	stored time.Time
	// started is when rendering began; tags are the handler's tags (the
	// implicit ones are derived from the request).
	started time.Time
	tags    []string
}

// entryVersion starts every encoded entry; entries of another version are
// treated as misses.
const entryVersion = 2

// encode lays an entry out as: version (1) | status (2) | stored Unix ms (8)
// | started Unix ns (8) | tag count (2) | per tag: len (2) tag
// | header count (2) | per header: name len (2) name, value count (2), per
// value: len (4) value | body (rest).
func (e entry) encode() []byte {
	n := 1 + 2 + 8 + 8 + 2 + 2 + len(e.body)
	for _, t := range e.tags {
		n += 2 + len(t)
	}
	for k, vs := range e.header {
		n += 2 + len(k) + 2
		for _, v := range vs {
			n += 4 + len(v)
		}
	}
	b := make([]byte, 0, n)
	b = append(b, entryVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(e.status))
	b = binary.BigEndian.AppendUint64(b, uint64(e.stored.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(e.started.UnixNano()))
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.tags)))
	for _, t := range e.tags {
		b = binary.BigEndian.AppendUint16(b, uint16(len(t)))
		b = append(b, t...)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.header)))
	for k, vs := range e.header {
		b = binary.BigEndian.AppendUint16(b, uint16(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(vs)))
		for _, v := range vs {
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
	}
	return append(b, e.body...)
}

var errShort = errors.New("pagecache: truncated entry")

// decodeEntry parses an encoded entry; ok is false for anything malformed.
func decodeEntry(b []byte) (e entry, ok bool) {
	r := reader{b: b}
	if v := r.n(1); r.err != nil || v[0] != entryVersion {
		return entry{}, false
	}
	e.status = int(r.u16())
	e.stored = time.UnixMilli(int64(r.u64()))
	e.started = time.Unix(0, int64(r.u64()))
	nt := int(r.u16())
	if r.err != nil || nt > len(r.b) {
		return entry{}, false
	}
	for range nt {
		e.tags = append(e.tags, string(r.n(int(r.u16()))))
	}
	nh := int(r.u16())
	if r.err != nil || e.status < 100 || e.status > 999 {
		return entry{}, false
	}
	e.header = make(http.Header, nh)
	for range nh {
		k := string(r.n(int(r.u16())))
		nv := int(r.u16())
		if r.err != nil || nv > len(r.b) {
			return entry{}, false
		}
		vs := make([]string, 0, nv)
		for range nv {
			vs = append(vs, string(r.n(int(r.u32()))))
		}
		e.header[k] = vs
	}
	if r.err != nil {
		return entry{}, false
	}
	e.body = r.b
	return e, true
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) n(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u16() uint16 {
	if b := r.n(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.n(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.n(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil
}
