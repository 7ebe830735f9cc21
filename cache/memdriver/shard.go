package memdriver

import (
	"strconv"
	"sync"
)

// shard is one independently locked part of the cache: an exact LRU list
// threaded through a slot arena (int32 links, no per-entry heap objects
// besides the value) and a map from key to slot. Expired entries are dropped
// when met and evicted first when the LRU tail is expired.
type shard struct {
	mu    sync.Mutex
	index map[string]int32
	slots []slot
	free  []int32
	head  int32 // most recently used; -1 when empty
	tail  int32 // least recently used; -1 when empty
	used  int64
	limit int64
	_     [64]byte // keep neighbouring shards' locks on separate cache lines
}

type slot struct {
	key        string
	val        []byte
	exp        int64 // unix nanoseconds; 0 = never
	prev, next int32
}

func (s *shard) init(limit int64) {
	s.index = make(map[string]int32)
	s.slots = nil
	s.free = nil
	s.head, s.tail = -1, -1
	s.used = 0
	s.limit = limit
}

// unlink removes slot i from the LRU list.
func (s *shard) unlink(i int32) {
	e := &s.slots[i]
	if e.prev >= 0 {
		s.slots[e.prev].next = e.next
	} else {
		s.head = e.next
	}
	if e.next >= 0 {
		s.slots[e.next].prev = e.prev
	} else {
		s.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

// pushFront makes slot i the most recently used.
func (s *shard) pushFront(i int32) {
	e := &s.slots[i]
	e.prev, e.next = -1, s.head
	if s.head >= 0 {
		s.slots[s.head].prev = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}

// promote marks slot i as just used.
func (s *shard) promote(i int32) {
	if s.head == i {
		return
	}
	s.unlink(i)
	s.pushFront(i)
}

// live returns the slot of key if present and unexpired; an expired entry is
// removed. Caller holds the lock.
func (s *shard) live(key string, now int64) (int32, bool) {
	i, ok := s.index[key]
	if !ok {
		return 0, false
	}
	if e := &s.slots[i]; e.exp != 0 && now >= e.exp {
		s.remove(i)
		return 0, false
	}
	return i, true
}

// put stores key=value as the most recently used entry, evicting from the
// LRU tail as needed. The caller checked the size against the shard limit
// and holds the lock.
func (s *shard) put(key string, value []byte, exp int64) {
	c := cost(key, value)
	if i, ok := s.index[key]; ok {
		e := &s.slots[i]
		s.used += c - cost(key, e.val)
		// Reuse the old buffer when it fits without wasting much memory.
		if cap(e.val) >= len(value) && cap(e.val) <= 2*len(value)+64 {
			e.val = e.val[:len(value)]
		} else {
			e.val = make([]byte, len(value))
		}
		copy(e.val, value)
		e.exp = exp
		s.promote(i)
		for s.used > s.limit && s.tail != i {
			s.remove(s.tail)
		}
		return
	}
	for s.used+c > s.limit && s.tail >= 0 {
		s.remove(s.tail)
	}
	var i int32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		s.slots = append(s.slots, slot{})
		i = int32(len(s.slots) - 1)
	}
	v := make([]byte, len(value))
	copy(v, value)
	s.slots[i] = slot{key: key, val: v, exp: exp, prev: -1, next: -1}
	s.pushFront(i)
	s.index[key] = i
	s.used += c
}

func (s *shard) remove(i int32) {
	s.unlink(i)
	e := &s.slots[i]
	delete(s.index, e.key)
	s.used -= cost(e.key, e.val)
	*e = slot{prev: -1, next: -1}
	s.free = append(s.free, i)
}

func parseInt(b []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }
