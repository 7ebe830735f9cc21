package storage

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Checksums of one object, each as "<algo>:<lowercase hex>" (Invenio's format).
// A zero field means "not computed" (e.g. the parts of an S3-assembled object
// before a re-read).
type Checksums struct {
	MD5    string // "md5:<32 hex>"
	SHA256 string // "sha256:<64 hex>"
}

// List returns the non-empty checksums, md5 first.
func (c Checksums) List() []string {
	var out []string
	if c.MD5 != "" {
		out = append(out, c.MD5)
	}
	if c.SHA256 != "" {
		out = append(out, c.SHA256)
	}
	return out
}

// Get returns the checksum for algo ("md5" or "sha256"), or "".
func (c Checksums) Get(algo string) string {
	switch algo {
	case "md5":
		return c.MD5
	case "sha256":
		return c.SHA256
	}
	return ""
}

// Verify compares want ("md5:<hex>" or "sha256:<hex>", case-insensitive hex)
// with the matching checksum in c. It returns nil on a match, an error
// matching ErrChecksumMismatch on a mismatch, and one matching ErrInvalid if
// want is malformed or its algorithm was not computed.
func (c Checksums) Verify(want string) error {
	algo, _, err := ParseChecksum(want)
	if err != nil {
		return err
	}
	have := c.Get(algo)
	if have == "" {
		return fmt.Errorf("storage: checksum %q: algorithm not computed: %w", want, ErrInvalid)
	}
	if !strings.EqualFold(have, want) {
		return fmt.Errorf("storage: expected %s, got %s: %w", want, have, ErrChecksumMismatch)
	}
	return nil
}

// ParseChecksum splits "md5:<hex>" or "sha256:<hex>" into its algorithm and
// raw digest; anything else is an error matching ErrInvalid.
func ParseChecksum(s string) (algo string, digest []byte, err error) {
	algo, hx, ok := strings.Cut(s, ":")
	size := 0
	switch algo {
	case "md5":
		size = md5.Size
	case "sha256":
		size = sha256.Size
	}
	if !ok || size == 0 {
		return "", nil, fmt.Errorf("storage: checksum %q: want md5:<hex> or sha256:<hex>: %w", s, ErrInvalid)
	}
	digest, err = hex.DecodeString(hx)
	if err != nil || len(digest) != size {
		return "", nil, fmt.Errorf("storage: checksum %q: bad %s digest: %w", s, algo, ErrInvalid)
	}
	return algo, digest, nil
}

// ParseContentMD5 decodes a client's MD5: the base64 form of an HTTP
// Content-MD5 header (24 characters), 32 hex digits, or the 16 raw bytes.
// Anything else is an error matching ErrInvalid. An empty string gives nil.
func ParseContentMD5(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	switch len(s) {
	case 0:
		return nil, nil
	case md5.Size:
		return []byte(s), nil
	case 2 * md5.Size:
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	case base64.StdEncoding.EncodedLen(md5.Size):
		if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == md5.Size {
			return b, nil
		}
	}
	return nil, fmt.Errorf("storage: Content-MD5 %q: want base64 (24 chars), hex (32) or 16 raw bytes: %w", s, ErrInvalid)
}

// ContentMD5Header formats an md5 checksum ("md5:<hex>") as the base64 value
// of an HTTP Content-MD5 header ("" if c is not an md5 checksum).
func ContentMD5Header(c string) string {
	algo, d, err := ParseChecksum(c)
	if err != nil || algo != "md5" {
		return ""
	}
	return base64.StdEncoding.EncodeToString(d)
}

// Algorithms is a set of checksum algorithms to compute while streaming
// (WriteOptions.Checksums). The zero value means AllAlgorithms: a write
// computes every checksum unless its caller asks for fewer.
type Algorithms uint8

const (
	AlgoMD5       Algorithms = 1 << iota // "md5:<hex>" (Invenio's checksum, the files ETag)
	AlgoSHA256                           // "sha256:<hex>"
	AllAlgorithms = AlgoMD5 | AlgoSHA256
)

// orAll returns a, or AllAlgorithms for the zero set.
func (a Algorithms) orAll() Algorithms {
	if a == 0 {
		return AllAlgorithms
	}
	return a
}

// algorithmOf returns the set holding the algorithm of checksum c ("md5:…"
// or "sha256:…"), or 0.
func algorithmOf(c string) Algorithms {
	algo, _, _ := strings.Cut(c, ":")
	switch algo {
	case "md5":
		return AlgoMD5
	case "sha256":
		return AlgoSHA256
	}
	return 0
}

// formatSums formats the digests of the hashes that were computed (nil: not
// computed, left empty).
func formatSums(m, s hash.Hash) Checksums {
	var c Checksums
	if m != nil {
		c.MD5 = "md5:" + hex.EncodeToString(m.Sum(nil))
	}
	if s != nil {
		c.SHA256 = "sha256:" + hex.EncodeToString(s.Sum(nil))
	}
	return c
}
