package sqsbroker_test

import (
	"testing"

	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
)

// BenchmarkThroughputSQS works 20,000 no-op tasks per op with 100 workers
// and PostgreSQL as the store: sql = the SQL store's own polling, sqs =
// delivered through the SQS server of REPOKIT_TEST_SQS_URL (goaws in CI, an
// in-memory emulator whose every call scans its queue under one lock).
func BenchmarkThroughputSQS(b *testing.B) {
	brokertest.Throughput(b, sqsEnv, "sqs", func(b *testing.B, base string) string {
		prefix := randName()
		b.Cleanup(func() { dropQueues(b, base, prefix) })
		return withParams(base, "prefix="+prefix)
	})
}
