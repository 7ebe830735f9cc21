package pubsubbroker

import (
	"context"
	"fmt"
	"net/url"
	"path"

	"gocloud.dev/pubsub"
	"gocloud.dev/pubsub/mempubsub"

	"github.com/repokit/repokit/tasks"
)

func init() {
	tasks.RegisterBroker("mem", OpenMem)
}

// OpenMem opens an in-process broker: mem://name[?prefix=p]. Brokers opened with the
// same name in one process share topics. Unacked messages are redelivered
// after one minute (?ackdeadline=30s to change).
func OpenMem(ctx context.Context, u *url.URL) (tasks.Broker, error) {
	name := path.Join(u.Host, u.Path)
	if name == "" {
		name = "tasks"
	}
	if p := u.Query().Get("prefix"); p != "" {
		name += "." + p
	}
	ack := u.Query().Get("ackdeadline")
	return newBroker(func(ctx context.Context) (session, error) {
		return &memSession{name: name, ackdeadline: ack}, nil
	}), nil
}

type memSession struct {
	name        string
	ackdeadline string
}

var memMux = func() *pubsub.URLMux {
	m := new(pubsub.URLMux)
	o := new(mempubsub.URLOpener)
	m.RegisterTopic("mem", o)
	m.RegisterSubscription("mem", o)
	return m
}()

func (s *memSession) url(queue string) string {
	return "mem://" + s.name + "/" + url.PathEscape(queue)
}

func (s *memSession) openTopic(ctx context.Context, queue string) (*pubsub.Topic, error) {
	return memMux.OpenTopic(ctx, s.url(queue))
}

func (s *memSession) openSubscription(ctx context.Context, queue string, _ int) (*pubsub.Subscription, error) {
	if _, err := memMux.OpenTopic(ctx, s.url(queue)); err != nil {
		return nil, err
	}
	u := s.url(queue)
	if s.ackdeadline != "" {
		u += "?ackdeadline=" + url.QueryEscape(s.ackdeadline)
	}
	sub, err := memMux.OpenSubscription(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("pubsubbroker: %w", err)
	}
	return sub, nil
}

// close leaves the process-wide topics alone (other brokers share them).
func (s *memSession) close() error { return nil }
