package jetstreambroker_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/repokit/repokit/internal/sqldb"
	"github.com/repokit/repokit/internal/sqldb/sqldbtest"
	_ "github.com/repokit/repokit/tasks/broker/jetstreambroker"
	"github.com/repokit/repokit/tasks/taskstest"
)

func TestJetStream(t *testing.T) {
	base := sqldbtest.ServiceURL(t, "REPOKIT_TEST_NATS_URL")
	h := taskstest.Harness{
		BrokerURL: base + "?ackwait=5s",
		NameParam: "stream",
		Unordered: true,
		AfterTest: func(t *testing.T, brokerURL string) {
			u, err := url.Parse(brokerURL)
			if err != nil {
				return
			}
			nc, err := nats.Connect(base)
			if err != nil {
				t.Logf("cleanup: %v", err)
				return
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = js.DeleteStream(ctx, u.Query().Get("stream"))
		},
	}
	sqldbtest.Run(t, func(t *testing.T, d sqldb.Dialect) {
		h.Dialect = string(d)
		taskstest.Run(t, h)
	})
}

func TestHelperProcess(t *testing.T) { taskstest.HelperProcess(t) }
