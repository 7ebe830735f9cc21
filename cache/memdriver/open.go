package memdriver

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/repokit/repokit/cache/driver"
)

// Scheme is the URL scheme of the mem driver.
const Scheme = "mem"

// URLOpener opens mem:// URLs (see the package doc for parameters).
type URLOpener struct{}

// OpenCacheURL implements driver.URLOpener.
func (URLOpener) OpenCacheURL(ctx context.Context, u *url.URL) (driver.Driver, error) {
	var o []Option
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "max_bytes":
			n, err := ParseBytes(v)
			if err != nil {
				return nil, fmt.Errorf("memdriver: max_bytes: %w", err)
			}
			o = append(o, WithMaxBytes(n))
		case "shards":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 4096 {
				return nil, fmt.Errorf("memdriver: shards: want 1..4096, got %q", v)
			}
			o = append(o, WithShards(n))
		default:
			return nil, fmt.Errorf("memdriver: unknown URL parameter %q", k)
		}
	}
	return New(o...), nil
}

// ParseBytes parses a size such as "64MiB", "512KB", "1GiB" or "1048576".
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	mult := map[string]int64{"": 1, "b": 1, "kb": 1e3, "kib": 1 << 10, "k": 1 << 10, "mb": 1e6, "mib": 1 << 20, "m": 1 << 20,
		"gb": 1e9, "gib": 1 << 30, "g": 1 << 30}[strings.ToLower(strings.TrimSpace(s[i:]))]
	if mult == 0 {
		return 0, fmt.Errorf("invalid size unit in %q", s)
	}
	return n * mult, nil
}
