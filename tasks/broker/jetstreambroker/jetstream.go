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
//
// The client reconnects forever; each subscription keeps one pull request
// open for the room left in its buffer and sends a new one as soon as the
// connection is back, so a server restart does not stall the queue. The
// NATS client's asynchronous errors are logged (see Broker.SetLogger).
package jetstreambroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
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
	log     atomic.Pointer[slog.Logger]
}

// SetLogger sends the broker's logs, and the NATS client's asynchronous
// errors (slow consumer, permission, disconnects), to l instead of
// slog.Default(). A tasks.Client that opened the broker from its URL calls it
// with its own logger.
func (b *Broker) SetLogger(l *slog.Logger) {
	if l != nil {
		b.log.Store(l.With("component", "tasks/jetstreambroker"))
	}
}

func (b *Broker) logger() *slog.Logger { return b.log.Load() }

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
	b := &Broker{stream: stream, ackWait: ackWait}
	b.SetLogger(slog.Default())
	nc, err := nats.Connect(server.String(), nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond),
		// Asynchronous errors go to the logger, not to stderr.
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			b.logger().Error("nats async error", "subject", subj, "err", err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.logger().Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.logger().Info("nats reconnected", "server", nc.ConnectedUrlRedacted())
		}),
	)
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
	b.nc, b.js = nc, js
	return b, nil
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

// Subscribe implements tasks.Broker. A pull loop fetches at most as many
// messages as the subscription's buffer (prefetch) has room for, so the
// client never has more in hand than it can hold (no "slow consumer" drops
// that would leave messages waiting for the ack wait), and it re-fetches at
// once after a reconnect: a server restart forgets pull requests.
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
	pctx, cancel := context.WithCancel(context.Background())
	s := &subscription{
		b: b, cons: cons, name: name,
		buf:    make(chan jetstream.Msg, max(prefetch, 1)),
		taken:  make(chan struct{}, 1),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	s.reconnected = b.nc.StatusChanged(nats.CONNECTED)
	go s.pull(pctx)
	return s, nil
}

// Close implements tasks.Broker.
func (b *Broker) Close() error {
	b.nc.Close()
	return nil
}

// fetchWait is how long one pull request waits on the server for messages
// before the pull loop sends another.
const fetchWait = 5 * time.Second

type subscription struct {
	b           *Broker
	cons        jetstream.Consumer
	name        string
	buf         chan jetstream.Msg // fetched, not yet received
	taken       chan struct{}      // signalled when Receive frees room in buf
	reconnected chan nats.Status
	cancel      context.CancelFunc
	done        chan struct{} // closed when pull returns
}

// pull keeps one pull request open for the free room of buf.
func (s *subscription) pull(ctx context.Context) {
	defer close(s.done)
	defer s.b.nc.RemoveStatusListener(s.reconnected)
	for ctx.Err() == nil {
		room := cap(s.buf) - len(s.buf)
		if room == 0 {
			select {
			case <-s.taken:
			case <-ctx.Done():
				return
			}
			continue
		}
		fctx, fcancel := context.WithTimeout(ctx, fetchWait)
		batch, err := s.cons.Fetch(room, jetstream.FetchContext(fctx))
		if err != nil {
			fcancel()
			s.b.logger().Warn("jetstream fetch", "consumer", s.name, "err", err)
			s.pause(ctx, 200*time.Millisecond)
			continue
		}
		msgs := batch.Messages()
	recv:
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					break recv
				}
				s.buf <- m // room was reserved by the fetch size
			case <-s.reconnected:
				// The pull request died with the old connection: end this
				// fetch (messages it already got are still drained) and
				// send a new one.
				s.b.logger().Info("jetstream reconnected, fetching again", "consumer", s.name)
				fcancel()
			}
		}
		fcancel()
		if err := batch.Error(); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) &&
			!errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
			s.b.logger().Warn("jetstream fetch", "consumer", s.name, "err", err)
			s.pause(ctx, 200*time.Millisecond)
		}
	}
}

func (s *subscription) pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Receive implements tasks.Subscription.
func (s *subscription) Receive(ctx context.Context) (tasks.Delivery, error) {
	for {
		select {
		case m := <-s.buf:
			select {
			case s.taken <- struct{}{}:
			default:
			}
			id, perr := strconv.ParseInt(string(m.Data()), 10, 64)
			if perr != nil {
				_ = m.Term()
				continue
			}
			return &delivery{m: m, id: id}, nil
		case <-s.done:
			return nil, fmt.Errorf("jetstreambroker: subscription %s closed", s.name)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close implements tasks.Subscription: it stops the pull loop and hands the
// messages fetched but not received back to the server.
func (s *subscription) Close() error {
	s.cancel()
	<-s.done
	for {
		select {
		case m := <-s.buf:
			_ = m.Nak()
		default:
			return nil
		}
	}
}

type delivery struct {
	m  jetstream.Msg
	id int64
}

func (d *delivery) TaskID() int64 { return d.id }
func (d *delivery) Ack()          { _ = d.m.Ack() }
func (d *delivery) Nack()         { _ = d.m.Nak() }
