package tasks

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Broker carries "task id is due" messages from the relay to workers on
// other machines. It is only a wake-up channel: task state, delays, retries,
// schedules and uniqueness stay in SQL, so a lost or duplicated message
// costs a delay, never a task. A worker acks a delivery only after the
// task's outcome is committed; the relay publishes a task again when it was
// not finished within the redelivery period.
type Broker interface {
	// Publish sends one message per id to queue.
	Publish(ctx context.Context, queue string, ids []int64) error
	// Subscribe starts receiving messages of queue. prefetch is how many
	// unacked messages the broker may hand out at once.
	Subscribe(ctx context.Context, queue string, prefetch int) (Subscription, error)
	// Close releases connections.
	Close() error
}

// Subscription receives deliveries of one queue. Receive is safe for
// concurrent use and reconnects after broker failures.
type Subscription interface {
	Receive(ctx context.Context) (Delivery, error)
	Close() error
}

// Delivery is one received message. Exactly one of Ack or Nack is called.
type Delivery interface {
	TaskID() int64
	Ack()
	Nack()
}

// BrokerOpener opens a broker from a parsed URL.
type BrokerOpener func(ctx context.Context, u *url.URL) (Broker, error)

var (
	brokersMu sync.RWMutex
	brokers   = map[string]BrokerOpener{}
)

// RegisterBroker makes OpenBroker handle URLs of scheme. Driver packages
// call it from init (tasks/broker/pubsubbroker: mem, rabbit;
// tasks/broker/jetstreambroker: nats).
func RegisterBroker(scheme string, open BrokerOpener) {
	brokersMu.Lock()
	defer brokersMu.Unlock()
	brokers[strings.ToLower(scheme)] = open
}

// OpenBroker opens a broker from a URL through the registered drivers.
func OpenBroker(ctx context.Context, rawURL string) (Broker, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: broker URL: %v", ErrInvalid, err)
	}
	brokersMu.RLock()
	open, ok := brokers[strings.ToLower(u.Scheme)]
	var known []string
	for s := range brokers {
		known = append(known, s)
	}
	brokersMu.RUnlock()
	if !ok {
		sort.Strings(known)
		return nil, fmt.Errorf("%w: no broker driver for scheme %q (registered: %v; import a tasks/broker driver)", ErrInvalid, u.Scheme, known)
	}
	return open(ctx, u)
}
