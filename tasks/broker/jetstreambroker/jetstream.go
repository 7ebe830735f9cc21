// Package jetstreambroker delivers tasks through NATS JetStream with
// explicit acks (core NATS, as in gocloud's natspubsub, is at-most-once and
// is not offered). Importing it registers the nats scheme with
// tasks.OpenBroker:
//
//	nats://host:4222?stream=TASKS&ackwait=30s
//
// One work-queue stream (default "TASKS", subjects "<stream>.>") holds the
// messages; each task queue q has the subject "<stream>.<q>" and a durable
// pull consumer "<stream>_<q>" shared by every worker of that queue. An
// unacked message is redelivered after ackwait. Queue names should use
// letters, digits, "-" and "_" (others are replaced by "_").
package jetstreambroker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/repokit/repokit/tasks"
)

func init() {
	tasks.RegisterBroker("nats", Open)
}

// Broker is a tasks.Broker on NATS JetStream.
type Broker struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  string
	ackWait time.Duration
}

var _ tasks.Broker = (*Broker)(nil)

// Open connects to NATS and creates (or updates) the stream.
func Open(ctx context.Context, u *url.URL) (tasks.Broker, error) {
	q := u.Query()
	stream := q.Get("stream")
	if stream == "" {
		stream = "TASKS"
	}
	ackWait := 30 * time.Second
	if s := q.Get("ackwait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%w: jetstreambroker: ackwait %q", tasks.ErrInvalid, s)
		}
		ackWait = d
	}
	if strings.ContainsAny(stream, ".*> \t") {
		return nil, fmt.Errorf("%w: jetstreambroker: stream name %q", tasks.ErrInvalid, stream)
	}
	server := *u
	server.RawQuery = ""
	nc, err := nats.Connect(server.String(), nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("jetstreambroker: connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      stream,
		Subjects:  []string{stream + ".>"},
		Retention: jetstream.WorkQueuePolicy,
		Storage:   jetstream.FileStorage,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstreambroker: stream %s: %w", stream, err)
	}
	return &Broker{nc: nc, js: js, stream: stream, ackWait: ackWait}, nil
}

func token(queue string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, queue)
}

// Publish implements tasks.Broker: asynchronous publishes, then it waits for
// every acknowledgement from the server.
func (b *Broker) Publish(ctx context.Context, queue string, ids []int64) error {
	subj := b.stream + "." + token(queue)
	futures := make([]jetstream.PubAckFuture, 0, len(ids))
	for _, id := range ids {
		f, err := b.js.PublishAsync(subj, []byte(strconv.FormatInt(id, 10)))
		if err != nil {
			return fmt.Errorf("jetstreambroker: publish: %w", err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("jetstreambroker: publish: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Subscribe implements tasks.Broker.
func (b *Broker) Subscribe(ctx context.Context, queue string, prefetch int) (tasks.Subscription, error) {
	name := b.stream + "_" + token(queue)
	cons, err := b.js.CreateOrUpdateConsumer(ctx, b.stream, jetstream.ConsumerConfig{
		Durable:       name,
		FilterSubject: b.stream + "." + token(queue),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       b.ackWait,
		MaxAckPending: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstreambroker: consumer %s: %w", name, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(max(prefetch, 1)))
	if err != nil {
		return nil, fmt.Errorf("jetstreambroker: consume %s: %w", name, err)
	}
	return &subscription{it: it}, nil
}

// Close implements tasks.Broker.
func (b *Broker) Close() error {
	b.nc.Close()
	return nil
}

type subscription struct {
	mu sync.Mutex
	it jetstream.MessagesContext
}

// Receive implements tasks.Subscription.
func (s *subscription) Receive(ctx context.Context) (tasks.Delivery, error) {
	for {
		s.mu.Lock()
		m, err := s.it.Next(jetstream.NextContext(ctx))
		s.mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil, err
			}
			// Transient (reconnecting, heartbeat missed): the iterator
			// recovers by itself.
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		id, perr := strconv.ParseInt(string(m.Data()), 10, 64)
		if perr != nil {
			_ = m.Term()
			continue
		}
		return &delivery{m: m, id: id}, nil
	}
}

// Close implements tasks.Subscription.
func (s *subscription) Close() error {
	s.it.Stop()
	return nil
}

type delivery struct {
	m  jetstream.Msg
	id int64
}

func (d *delivery) TaskID() int64 { return d.id }
func (d *delivery) Ack()          { _ = d.m.Ack() }
func (d *delivery) Nack()         { _ = d.m.Nak() }
