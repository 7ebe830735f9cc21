package redisbroker_test

import (
	"testing"

	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
)

// BenchmarkThroughputRedis works 20,000 no-op tasks per op with 100
// workers and PostgreSQL as the store: sql = the SQL store's own polling,
// redis = delivered through Redis Streams.
func BenchmarkThroughputRedis(b *testing.B) {
	brokertest.Throughput(b, redisEnv, "redis", func(b *testing.B, base string) string {
		prefix := randName()
		b.Cleanup(func() { dropPrefix(b, rawClient(b, base), prefix) })
		return base + "?prefix=" + prefix
	})
}
