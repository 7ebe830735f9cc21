package storage

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

// The streaming pipeline shared by Write, Copy, Checksum and multipart
// assembly: the caller's goroutine reads fixed-size chunks and writes them to
// the destination while one worker per checksum (md5, sha256) hashes the
// same chunk in parallel, so the write never waits for hashing unless the
// ring is full. A small ring of reused chunks bounds memory to
// pumpChunks*pumpChunkSize per stream, whatever the object size.
const (
	pumpChunkSize = 1 << 20
	pumpChunks    = 4
)

type chunk struct {
	buf  []byte
	n    int
	refs atomic.Int32
}

var chunkPool = sync.Pool{New: func() any { return &chunk{buf: make([]byte, pumpChunkSize)} }}

// pumpLimits are checked while streaming, before a chunk is written.
type pumpLimits struct {
	max      int64      // > 0: ErrTooLarge when passed
	expected int64      // >= 0: ErrSizeMismatch when passed or not reached
	sums     Algorithms // checksums to compute; 0: all
}

// pump copies r to w (w may be nil: hash only) and returns the byte count and
// checksums. It stops at the first chunk that would pass a limit, without
// writing it, and between chunks when ctx is done.
func pump(ctx context.Context, r io.Reader, w io.Writer, lim pumpLimits) (int64, Checksums, error) {
	var (
		free    = make(chan *chunk, pumpChunks)
		md, sh  hash.Hash
		workers []chan *chunk
		wg      sync.WaitGroup
	)
	for range pumpChunks {
		free <- chunkPool.Get().(*chunk)
	}
	release := func(c *chunk) {
		if c.refs.Add(-1) == 0 {
			free <- c
		}
	}
	hashWorker := func(h hash.Hash, ch chan *chunk) {
		defer wg.Done()
		for c := range ch {
			h.Write(c.buf[:c.n])
			release(c)
		}
	}
	start := func(h hash.Hash) hash.Hash {
		ch := make(chan *chunk, pumpChunks)
		workers = append(workers, ch)
		wg.Add(1)
		go hashWorker(h, ch)
		return h
	}
	algos := lim.sums.orAll()
	if algos&AlgoMD5 != 0 {
		md = start(md5.New())
	}
	if algos&AlgoSHA256 != 0 {
		sh = start(sha256.New())
	}
	refs := int32(len(workers)) + 1 // the hashers and the writer

	var total int64
	err := func() error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			c := <-free
			n, rerr := fill(r, c.buf)
			if rerr != nil && rerr != io.EOF {
				free <- c
				return fmt.Errorf("read source: %w", rerr)
			}
			total += int64(n)
			if lim.max > 0 && total > lim.max {
				free <- c
				return fmt.Errorf("more than %d bytes: %w", lim.max, ErrTooLarge)
			}
			if lim.expected >= 0 && total > lim.expected {
				free <- c
				return fmt.Errorf("more than the expected %d bytes: %w", lim.expected, ErrSizeMismatch)
			}
			if n > 0 {
				c.n = n
				c.refs.Store(refs)
				for _, ch := range workers {
					ch <- c
				}
				if w != nil {
					if _, werr := w.Write(c.buf[:n]); werr != nil {
						release(c)
						return werr
					}
				}
				release(c)
			} else {
				free <- c
			}
			if rerr == io.EOF {
				if lim.expected >= 0 && total != lim.expected {
					return fmt.Errorf("got %d bytes, expected %d: %w", total, lim.expected, ErrSizeMismatch)
				}
				return nil
			}
		}
	}()
	for _, ch := range workers {
		close(ch)
	}
	wg.Wait()
	for range pumpChunks {
		chunkPool.Put(<-free)
	}
	if err != nil {
		return total, Checksums{}, err
	}
	return total, formatSums(md, sh), nil
}

// fill reads from r until buf is full, r reports io.EOF (the only clean end
// of a stream) or r fails. Unlike io.ReadFull it passes a source's own
// io.ErrUnexpectedEOF through as an error: net/http returns exactly that
// when a client hangs up in the middle of a request body.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
