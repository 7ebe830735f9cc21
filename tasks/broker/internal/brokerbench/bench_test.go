// Package brokerbench_test compares the task brokers' throughput in one
// run: the SQL store's own polling, Redis Streams and SQS.
package brokerbench_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/broker/internal/brokertest"
	"github.com/repokit/repokit/tasks/broker/redisbroker"
	"github.com/repokit/repokit/tasks/broker/sqsbroker"
)

func randName() string { return fmt.Sprintf("rk%d", time.Now().UnixNano()%1e9) }

func withParam(raw, param string) string {
	if strings.Contains(raw, "?") {
		return raw + "&" + param
	}
	return raw + "?" + param
}

// cleanup closes the broker of raw after deleting the queues of the
// benchmark's task queue ("default") with drop.
func cleanup(b *testing.B, raw string, drop func(ctx context.Context, br tasks.Broker) error) {
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		br, err := tasks.OpenBroker(ctx, raw)
		if err != nil {
			b.Logf("cleanup: %v", err)
			return
		}
		defer br.Close()
		if err := drop(ctx, br); err != nil {
			b.Logf("cleanup: %v", err)
		}
	})
}

// BenchmarkThroughput works 20,000 no-op tasks per op with 100 workers and
// PostgreSQL as the store, in one run: sql = the SQL store's own polling,
// redis = through Redis Streams (REPOKIT_TEST_REDIS_URL), sqs = through
// the SQS server of REPOKIT_TEST_SQS_URL (goaws in CI).
func BenchmarkThroughput(b *testing.B) {
	brokertest.ThroughputOf(b,
		brokertest.Way{Name: "sql"},
		brokertest.Way{Name: "redis", BrokerURL: func(b *testing.B) string {
			raw := withParam(sqldbtest.ServiceURL(b, "REPOKIT_TEST_REDIS_URL"), "prefix="+randName())
			cleanup(b, raw, func(ctx context.Context, br tasks.Broker) error {
				r := br.(*redisbroker.Broker)
				return r.Client().Del(ctx, r.Stream("default")).Err()
			})
			return raw
		}},
		brokertest.Way{Name: "sqs", BrokerURL: func(b *testing.B) string {
			raw := withParam(sqldbtest.ServiceURL(b, "REPOKIT_TEST_SQS_URL"), "prefix="+randName())
			cleanup(b, raw, func(ctx context.Context, br tasks.Broker) error {
				s := br.(*sqsbroker.Broker)
				for _, name := range []string{s.QueueName("default"), s.QueueName("default") + "-dlq"} {
					u, err := s.Client().GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
					if err != nil {
						return err
					}
					if _, err := s.Client().DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: u.QueueUrl}); err != nil {
						return err
					}
				}
				return nil
			})
			return raw
		}},
	)
}
