package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// MaxParts is the highest part number (S3's limit, used everywhere).
const MaxParts = 10000

// Multipart is one multipart upload to a key: parts are uploaded separately
// (concurrently, in any order, possibly from different processes) and then
// assembled into the final object by Complete. Its whole state is (key,
// upload id) plus the Parts the caller keeps (files stores them in SQL), so
// ResumeMultipart continues it from anywhere.
//
// On s3:// locations this is S3's native multipart upload (parts must be at
// least 5 MiB except the last, as S3 requires). Elsewhere each part is a
// temporary object "<key>.parts/<upload id>/<00001>" (see IsPartKey) and
// Complete streams them, in order, into key. There the upload has no state of
// its own: UploadPart after Complete or Abort stores a part again, which only
// Abort or garbage collection (Uploads, IsPartKey) removes — the caller's
// records say whether an upload is still open.
type Multipart struct {
	loc      *Location
	key      string
	uploadID string
}

// Part is one uploaded part, as reported by UploadPart and handed back to
// Complete.
type Part struct {
	Number    int       // 1..MaxParts
	Size      int64     // bytes in the part
	ETag      string    // the S3 part ETag (native uploads), "" elsewhere
	Checksums Checksums // md5 and sha256 of the part, computed while uploading
}

// NewMultipart starts a multipart upload to key.
func (l *Location) NewMultipart(ctx context.Context, key string) (*Multipart, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if l.native != nil {
		id, err := l.native.CreateMultipart(ctx, key)
		if err != nil {
			return nil, wrapErr("multipart create", key, err)
		}
		return &Multipart{loc: l, key: key, uploadID: id}, nil
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return &Multipart{loc: l, key: key, uploadID: hex.EncodeToString(b[:])}, nil
}

// ResumeMultipart returns the upload started by NewMultipart with this key
// and upload id (no I/O; an unknown id fails later, in UploadPart, Complete
// or Abort).
func (l *Location) ResumeMultipart(key, uploadID string) (*Multipart, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if uploadID == "" {
		return nil, fmt.Errorf("storage: multipart %q: empty upload id: %w", key, ErrInvalid)
	}
	if l.native == nil {
		if _, err := hex.DecodeString(uploadID); err != nil || len(uploadID) != 32 {
			return nil, fmt.Errorf("storage: multipart %q: bad upload id %q: %w", key, uploadID, ErrInvalid)
		}
	}
	return &Multipart{loc: l, key: key, uploadID: uploadID}, nil
}

// Key returns the final object key.
func (m *Multipart) Key() string { return m.key }

// UploadID identifies the upload (S3's upload id on s3://).
func (m *Multipart) UploadID() string { return m.uploadID }

// Native reports whether the location's own multipart API is used (S3).
func (m *Multipart) Native() bool { return m.loc.native != nil }

func (m *Multipart) partKey(n int) string {
	return fmt.Sprintf("%s%s%s/%05d", m.key, partsSuffix, m.uploadID, n)
}

// UploadPart streams exactly size bytes of r as part number n (1..MaxParts),
// computing its md5 and sha256 on the way. Uploading the same number again
// replaces the part. More or fewer bytes than size fail with ErrSizeMismatch
// and store nothing for this part number (a previous upload of it survives on
// non-S3 locations; S3 keeps its previous part too). Safe for concurrent use
// with different part numbers.
func (m *Multipart) UploadPart(ctx context.Context, n int, r io.Reader, size int64) (Part, error) {
	return m.UploadPartWith(ctx, n, r, PartOptions{Size: size})
}

// PartOptions describe one part for UploadPartWith.
type PartOptions struct {
	Size int64 // exact size of the part (required)
	// ContentMD5 is the client's MD5 of the part (see ParseContentMD5). A
	// mismatch fails with ErrChecksumMismatch and stores nothing for this
	// part number (S3 checks it server-side: the Content-MD5 header is sent
	// and signed).
	ContentMD5 string
}

// UploadPartWith is UploadPart with a client checksum.
func (m *Multipart) UploadPartWith(ctx context.Context, n int, r io.Reader, o PartOptions) (Part, error) {
	if n < 1 || n > MaxParts {
		return Part{}, fmt.Errorf("storage: multipart %q: part number %d outside 1..%d: %w", m.key, n, MaxParts, ErrInvalid)
	}
	if o.Size < 0 {
		return Part{}, fmt.Errorf("storage: multipart %q part %d: size %d: %w", m.key, n, o.Size, ErrInvalid)
	}
	md, err := ParseContentMD5(o.ContentMD5)
	if err != nil {
		return Part{}, err
	}
	if m.loc.native != nil {
		p, err := m.loc.native.UploadPart(ctx, m.key, m.uploadID, n, r, o.Size, md)
		if err != nil {
			return Part{}, wrapErr(fmt.Sprintf("multipart upload part %d of", n), m.key, err)
		}
		return p, nil
	}
	res, err := m.loc.Write(ctx, m.partKey(n), r, WriteOptions{ExpectedSize: o.Size, ContentMD5: o.ContentMD5, ContentType: "application/octet-stream"})
	if err != nil {
		return Part{}, err
	}
	return Part{Number: n, Size: res.Size, Checksums: res.Checksums}, nil
}

// Complete assembles parts (ascending part numbers, each as returned by
// UploadPart; Size and, on S3, ETag are required) into the final key and
// returns its size and checksums. Memory stays constant: on non-S3 locations
// the parts are streamed into the final object (checksums computed on the
// way) and then deleted; on S3 the server concatenates them and the object is
// re-read to compute the checksums. A missing part gives ErrNotFound, a part
// whose stored size differs gives ErrSizeMismatch; nothing is written then.
func (m *Multipart) Complete(ctx context.Context, parts []Part) (WriteResult, error) {
	if len(parts) == 0 {
		return WriteResult{}, fmt.Errorf("storage: multipart %q: no parts: %w", m.key, ErrInvalid)
	}
	var total int64
	for i, p := range parts {
		if p.Number < 1 || p.Number > MaxParts || (i > 0 && p.Number <= parts[i-1].Number) {
			return WriteResult{}, fmt.Errorf("storage: multipart %q: part numbers must ascend within 1..%d (got %d at index %d): %w", m.key, MaxParts, p.Number, i, ErrInvalid)
		}
		if p.Size < 0 {
			return WriteResult{}, fmt.Errorf("storage: multipart %q: part %d size %d: %w", m.key, p.Number, p.Size, ErrInvalid)
		}
		total += p.Size
	}
	if m.loc.native != nil {
		if err := m.loc.native.CompleteMultipart(ctx, m.key, m.uploadID, parts); err != nil {
			return WriteResult{}, wrapErr("multipart complete", m.key, err)
		}
		res, err := m.loc.Checksum(ctx, m.key)
		if err != nil {
			return WriteResult{}, err
		}
		if res.Size != total {
			return WriteResult{}, fmt.Errorf("storage: multipart %q: assembled %d bytes, parts sum to %d: %w", m.key, res.Size, total, ErrSizeMismatch)
		}
		return res, nil
	}
	for _, p := range parts {
		info, err := m.loc.Stat(ctx, m.partKey(p.Number))
		if err != nil {
			return WriteResult{}, fmt.Errorf("storage: multipart %q: part %d: %w", m.key, p.Number, err)
		}
		if info.Size != p.Size {
			return WriteResult{}, fmt.Errorf("storage: multipart %q: part %d has %d bytes, expected %d: %w", m.key, p.Number, info.Size, p.Size, ErrSizeMismatch)
		}
	}
	cat := &partsReader{ctx: ctx, m: m, parts: parts}
	defer cat.close()
	res, err := m.loc.Write(ctx, m.key, cat, WriteOptions{ExpectedSize: total})
	if err != nil {
		return WriteResult{}, err
	}
	if err := m.deleteParts(context.WithoutCancel(ctx)); err != nil {
		m.loc.opts.logger.WarnContext(ctx, "storage: multipart parts left for garbage collection", "location", m.loc.name, "key", m.key, "err", err)
	}
	return res, nil
}

// Abort discards the upload and its parts. Aborting an upload that is
// already completed or aborted is not an error on non-S3 locations; S3
// reports ErrNotFound for an unknown upload id.
func (m *Multipart) Abort(ctx context.Context) error {
	if m.loc.native != nil {
		return wrapErr("multipart abort", m.key, m.loc.native.AbortMultipart(ctx, m.key, m.uploadID))
	}
	return m.deleteParts(ctx)
}

// deleteParts removes every stored part of this upload (found by listing, so
// parts the caller never recorded go too).
func (m *Multipart) deleteParts(ctx context.Context) error {
	prefix := m.key + partsSuffix + m.uploadID + "/"
	var keys []string
	for o, err := range m.loc.List(ctx, prefix) {
		if err != nil {
			return err
		}
		keys = append(keys, o.Key)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 8)
	)
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := m.loc.Delete(ctx, k); err != nil && !errors.Is(err, ErrNotFound) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) == 0 {
		m.loc.removePartsDir(prefix)
	}
	return errors.Join(errs...)
}

// partsReader reads the parts one after the other, opening each only when
// the previous one is exhausted.
type partsReader struct {
	ctx   context.Context
	m     *Multipart
	parts []Part
	cur   *Reader
}

func (p *partsReader) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			if len(p.parts) == 0 {
				return 0, io.EOF
			}
			r, err := p.m.loc.NewReader(p.ctx, p.m.partKey(p.parts[0].Number))
			if err != nil {
				return 0, err
			}
			p.cur, p.parts = r, p.parts[1:]
		}
		n, err := p.cur.Read(b)
		if err == io.EOF {
			_ = p.cur.Close()
			p.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (p *partsReader) close() {
	if p.cur != nil {
		_ = p.cur.Close()
	}
}
