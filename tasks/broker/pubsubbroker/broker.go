package pubsubbroker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"gocloud.dev/pubsub"
	"golang.org/x/sync/errgroup"

	"github.com/repokit/repokit/tasks"
)

// session is one connection's worth of topics and subscriptions.
type session interface {
	openTopic(ctx context.Context, queue string) (*pubsub.Topic, error)
	openSubscription(ctx context.Context, queue string, prefetch int) (*pubsub.Subscription, error)
	close() error
}

// Broker is a tasks.Broker over gocloud pubsub that reconnects.
type Broker struct {
	dial func(ctx context.Context) (session, error)
	// ownTopics: topics belong to the connection and are shut down with it
	// (RabbitMQ); mem topics are process-wide and stay.
	ownTopics bool

	mu     sync.Mutex
	sess   session
	gen    int
	topics map[string]*pubsub.Topic
	closed bool
}

var _ tasks.Broker = (*Broker)(nil)

func newBroker(dial func(ctx context.Context) (session, error)) *Broker {
	return &Broker{dial: dial, topics: map[string]*pubsub.Topic{}}
}

// current returns the live session, dialling one if needed.
func (b *Broker) current(ctx context.Context) (session, int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, 0, errors.New("pubsubbroker: closed")
	}
	if b.sess == nil {
		s, err := b.dial(ctx)
		if err != nil {
			return nil, b.gen, err
		}
		b.sess = s
		b.gen++
		b.topics = map[string]*pubsub.Topic{}
	}
	return b.sess, b.gen, nil
}

// reset drops session gen after a failure so the next call redials.
func (b *Broker) reset(gen int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gen != gen || b.sess == nil {
		return
	}
	b.shutdownTopics()
	_ = b.sess.close()
	b.sess = nil
}

func (b *Broker) shutdownTopics() {
	if !b.ownTopics {
		b.topics = map[string]*pubsub.Topic{}
		return
	}
	for _, t := range b.topics {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = t.Shutdown(ctx)
		cancel()
	}
	b.topics = map[string]*pubsub.Topic{}
}

func (b *Broker) topic(ctx context.Context, queue string) (*pubsub.Topic, int, error) {
	s, gen, err := b.current(ctx)
	if err != nil {
		return nil, gen, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gen != gen {
		return nil, gen, errors.New("pubsubbroker: reconnected meanwhile")
	}
	if t, ok := b.topics[queue]; ok {
		return t, gen, nil
	}
	t, err := s.openTopic(ctx, queue)
	if err != nil {
		return nil, gen, err
	}
	b.topics[queue] = t
	return t, gen, nil
}

// Publish implements tasks.Broker; it retries on a fresh connection.
func (b *Broker) Publish(ctx context.Context, queue string, ids []int64) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var t *pubsub.Topic
		var gen int
		t, gen, err = b.topic(ctx, queue)
		if err == nil {
			err = sendAll(ctx, t, ids)
			if err == nil {
				return nil
			}
		}
		b.reset(gen)
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(100*(attempt+1)) * time.Millisecond)
	}
	return fmt.Errorf("pubsubbroker: publish to %s: %w", queue, err)
}

func sendAll(ctx context.Context, t *pubsub.Topic, ids []int64) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64) // concurrent Sends are batched by gocloud
	for _, id := range ids {
		g.Go(func() error {
			return t.Send(gctx, &pubsub.Message{Body: []byte(strconv.FormatInt(id, 10))})
		})
	}
	return g.Wait()
}

// Subscribe implements tasks.Broker.
func (b *Broker) Subscribe(ctx context.Context, queue string, prefetch int) (tasks.Subscription, error) {
	s := &subscription{b: b, queue: queue, prefetch: prefetch}
	if _, err := s.get(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Close implements tasks.Broker.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.sess == nil {
		return nil
	}
	b.shutdownTopics()
	err := b.sess.close()
	b.sess = nil
	return err
}

type subscription struct {
	b        *Broker
	queue    string
	prefetch int

	mu     sync.Mutex
	sub    *pubsub.Subscription
	gen    int
	closed bool
}

func (s *subscription) get(ctx context.Context) (*pubsub.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("pubsubbroker: subscription closed")
	}
	sess, gen, err := s.b.current(ctx)
	if err != nil {
		return nil, err
	}
	if s.sub != nil && s.gen == gen {
		return s.sub, nil
	}
	if s.sub != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.sub.Shutdown(sctx)
		cancel()
	}
	sub, err := sess.openSubscription(ctx, s.queue, s.prefetch)
	if err != nil {
		s.b.reset(gen)
		return nil, err
	}
	s.sub, s.gen = sub, gen
	return sub, nil
}

// Receive implements tasks.Subscription: after a failure it reconnects and
// keeps receiving.
func (s *subscription) Receive(ctx context.Context) (tasks.Delivery, error) {
	for {
		sub, err := s.get(ctx)
		if err == nil {
			var m *pubsub.Message
			m, err = sub.Receive(ctx)
			if err == nil {
				id, perr := strconv.ParseInt(string(m.Body), 10, 64)
				if perr != nil {
					m.Ack() // not ours: drop
					continue
				}
				return &delivery{m: m, id: id}, nil
			}
			s.mu.Lock()
			gen := s.gen
			s.mu.Unlock()
			s.b.reset(gen)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Close implements tasks.Subscription.
func (s *subscription) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.sub == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.sub.Shutdown(ctx)
}

type delivery struct {
	m  *pubsub.Message
	id int64
}

func (d *delivery) TaskID() int64 { return d.id }
func (d *delivery) Ack()          { d.m.Ack() }
func (d *delivery) Nack() {
	if d.m.Nackable() {
		d.m.Nack()
	}
}
