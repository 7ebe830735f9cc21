// Package redisdriver is the Redis cache driver (github.com/redis/go-redis/v9).
// Importing it registers these URL schemes with cache.DefaultURLMux:
//
//	redis://[user:pass@]host:6379/0             one server (rediss:// for TLS)
//	redis+sentinel://[user:pass@]s1:26379,s2:26379/0?master_name=mymaster
//	redis+cluster://[user:pass@]n1:6379,n2:6379  (rediss+sentinel, rediss+cluster for TLS)
//
// Query parameters: timeout (dial, read, write and pool timeout; default 1s;
// calls on a down or hung server fail with cache.ErrUnavailable within it),
// plus any go-redis option in snake case (pool_size, max_retries,
// read_timeout, ...), which override timeout. Retries are off unless
// max_retries is given, so that failure is fast and predictable.
//
// TLS (rediss schemes): the server certificate is checked against the
// system's CAs and the URL's host name (skip_verify=true turns the check
// off); tls_ca_file=/path/ca.pem trusts the CAs of that PEM file instead,
// and tls_cert_file=/path/cert.pem&tls_key_file=/path/key.pem present a
// client certificate (Redis's default tls-auth-clients yes requires one).
// These three are rejected on URLs without TLS. For any other TLS setting,
// build the go-redis client yourself and pass it to New.
package redisdriver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/repokit/repokit/cache/driver"
)

// MaxValueBytes is Redis's string size limit (512 MiB).
const MaxValueBytes = 512 << 20

// Driver is the Redis cache driver. It is safe for concurrent use.
type Driver struct {
	rdb     redis.UniversalClient
	cluster bool
	owned   bool

	closeOnce sync.Once
	closeErr  error
}

// Option configures a Driver made by New.
type Option func(*Driver)

// WithCloseClient makes the driver's Close close the client too (the
// driver then owns it). Without it the caller keeps ownership of a client
// it may share. Drivers opened from a URL own their client.
func WithCloseClient() Option { return func(d *Driver) { d.owned = true } }

var _ driver.Driver = (*Driver)(nil)

// New wraps an existing go-redis client (a *redis.Client, *redis.ClusterClient
// or failover client). Close does not close a client passed in this way
// unless WithCloseClient is given.
func New(rdb redis.UniversalClient, opts ...Option) *Driver {
	_, cluster := rdb.(*redis.ClusterClient)
	d := &Driver{rdb: rdb, cluster: cluster}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Client returns the underlying go-redis client.
func (d *Driver) Client() redis.UniversalClient { return d.rdb }

func tooLarge(value []byte) error {
	if len(value) > MaxValueBytes {
		return fmt.Errorf("%w: %d bytes, Redis limit %d", driver.ErrTooLarge, len(value), MaxValueBytes)
	}
	return nil
}

func ttlArg(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	if ttl < time.Millisecond {
		return time.Millisecond
	}
	return ttl
}

// Get implements driver.Driver.
func (d *Driver) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := d.rdb.Get(ctx, key).Bytes()
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	return b, nil
}

// GetMulti implements driver.Driver: one MGET, or on a cluster one pipeline
// of GETs (keys may live in different slots).
func (d *Driver) GetMulti(ctx context.Context, keys []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	if d.cluster {
		cmds := make([]*redis.StringCmd, len(keys))
		_, err := d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Get(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, mapErr(ctx, err)
		}
		for i, cmd := range cmds {
			if b, err := cmd.Bytes(); err == nil {
				out[keys[i]] = b
			}
		}
		return out, nil
	}
	vals, err := d.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[keys[i]] = []byte(s)
		}
	}
	return out, nil
}

// Set implements driver.Driver.
func (d *Driver) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := tooLarge(value); err != nil {
		return err
	}
	return mapErr(ctx, d.rdb.Set(ctx, key, value, ttlArg(ttl)).Err())
}

// Add implements driver.Driver (SET NX).
func (d *Driver) Add(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := tooLarge(value); err != nil {
		return err
	}
	ok, err := d.rdb.SetNX(ctx, key, value, ttlArg(ttl)).Result()
	if err != nil {
		return mapErr(ctx, err)
	}
	if !ok {
		return driver.ErrNotStored
	}
	return nil
}

// Delete implements driver.Driver.
func (d *Driver) Delete(ctx context.Context, key string) error {
	return mapErr(ctx, d.rdb.Del(ctx, key).Err())
}

// Incr implements driver.Driver: INCRBY, plus PEXPIRE when the call created
// the key, atomically in one script.
func (d *Driver) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		n, err := d.rdb.IncrBy(ctx, key, delta).Result()
		return n, mapErr(ctx, err)
	}
	n, err := incrScript.Run(ctx, d.rdb, []string{key}, delta, ttlArg(ttl).Milliseconds()).Int64()
	return n, mapErr(ctx, err)
}

// CompareAndDelete implements driver.Driver with a Lua script (atomic).
func (d *Driver) CompareAndDelete(ctx context.Context, key string, old []byte) error {
	n, err := compareAndDeleteScript.Run(ctx, d.rdb, []string{key}, old).Int64()
	if err != nil {
		return mapErr(ctx, err)
	}
	return scriptResult(n)
}

// CompareAndTouch implements driver.Driver with a Lua script (atomic).
func (d *Driver) CompareAndTouch(ctx context.Context, key string, old []byte, ttl time.Duration) error {
	var n int64
	var err error
	if ttl <= 0 {
		n, err = compareAndPersistScript.Run(ctx, d.rdb, []string{key}, old).Int64()
	} else {
		n, err = compareAndExpireScript.Run(ctx, d.rdb, []string{key}, old, ttlArg(ttl).Milliseconds()).Int64()
	}
	if err != nil {
		return mapErr(ctx, err)
	}
	return scriptResult(n)
}

func scriptResult(n int64) error {
	switch n {
	case 1:
		return nil
	case -1:
		return driver.ErrMismatch
	}
	return driver.ErrMiss
}

// Close implements driver.Driver: it closes the client if the driver owns
// it (opened from a URL, or WithCloseClient). It is idempotent.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		if d.owned {
			d.closeErr = d.rdb.Close()
		}
	})
	return d.closeErr
}
