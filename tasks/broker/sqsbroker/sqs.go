// Package sqsbroker delivers tasks through Amazon SQS, sending and receiving
// with gocloud.dev's awssnssqs driver. Importing it registers the sqs scheme
// with tasks.OpenBroker:
//
//	sqs://?region=eu-west-1&prefix=tasks&lease=30s&maxreceive=10
//	sqs://?endpoint=http://127.0.0.1:4100&region=us-east-1&anonymous=true&protocol=query
//
// The broker's parameters:
//
//	prefix      queue name prefix (default "tasks"): task queue q is the SQS
//	            queue "<prefix>-<q>" (other characters than letters, digits,
//	            "-" and "_" become "_"), created on first use
//	lease       the queues' visibility timeout (default 30s, whole seconds,
//	            1s to 12h). A received message stays invisible to other
//	            workers while its task runs: the broker extends it
//	            (ChangeMessageVisibility) every lease/3 until Ack or Nack. A
//	            worker that dies stops extending and SQS hands the message to
//	            another worker once the lease ran out.
//	maxreceive  dead-letter after this many receives (default 10, 0: none):
//	            each queue gets a redrive policy to "<prefix>-<q>-dlq", so a
//	            message that keeps failing (a worker crashing on it) is parked
//	            there for an operator instead of circulating forever
//	waittime    long-poll wait of ReceiveMessage (default 1s, at most 20s)
//	protocol    "json" (default, what the AWS SDK speaks) or "query" (the
//	            older AWS Query protocol, which SQS still accepts and which
//	            emulators such as goaws v0.4 speak exclusively)
//
// All other parameters (region, endpoint, profile, anonymous, …) configure
// the AWS SDK as gocloud.dev's awssqs URLs do.
//
// Ack deletes the message; Nack makes it visible again at once
// (ChangeMessageVisibility to 0). Delivery is at-least-once; as with every
// broker, task state stays in SQL, so a message lost anyway (a deleted
// queue, a dead-lettered message, an emulator restart) costs a delay: the
// tasks relay publishes a task again once it stayed pending past its
// redelivery period.
//
// # What goaws does not enforce
//
// The tests run against goaws v0.4.5 (an SQS emulator). It speaks only the
// Query protocol, keeps messages in memory (a restart loses them), has no
// ChangeMessageVisibilityBatch (so Nack and lease extension use the single
// call), checks visibility timeouts once a second, always reports
// ApproximateReceiveCount 1, and applies a redrive policy when a message
// becomes visible again after its n-th expiry or Nack rather than on its
// n-th receive as SQS does. The broker relies on none of these; what they
// would hide (lease extension past the visibility timeout, redelivery of an
// abandoned message, dead-lettering after maxreceive receives, Nack) is
// also tested against an in-process fake that keeps SQS's rules
// (fake_test.go).
package sqsbroker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/schemas"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	gcaws "gocloud.dev/aws"
	"gocloud.dev/pubsub"
	"gocloud.dev/pubsub/awssnssqs"
	"golang.org/x/sync/errgroup"

	"github.com/repokit/repokit/tasks"
	"github.com/repokit/repokit/tasks/broker/internal/brokerutil"
)

func init() {
	tasks.RegisterBroker("sqs", Open)
}

// Defaults of the URL parameters.
const (
	DefaultPrefix     = "tasks"
	DefaultLease      = 30 * time.Second
	DefaultMaxReceive = 10
	DefaultWaitTime   = time.Second
)

// Options configure a Broker made with New.
type Options struct {
	Prefix     string        // DefaultPrefix if empty
	Lease      time.Duration // visibility timeout; DefaultLease if 0
	MaxReceive int           // receives before dead-lettering; 0: none (New does not default it)
	WaitTime   time.Duration // long-poll wait; DefaultWaitTime if 0
}

// Broker is a tasks.Broker on Amazon SQS.
type Broker struct {
	client *sqs.Client
	opts   Options

	mu     sync.Mutex
	queues map[string]string // task queue -> SQS queue URL
	topics map[string]*pubsub.Topic
	closed bool
}

var _ tasks.Broker = (*Broker)(nil)

// Open opens a broker from a URL (see the package doc). It does not
// connect: the first Publish or Subscribe creates the queue.
func Open(ctx context.Context, u *url.URL) (tasks.Broker, error) {
	if u.Host != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%w: sqsbroker: the URL names no host or queue (sqs://?region=…), got %q", tasks.ErrInvalid, u.Host+u.Path)
	}
	q := u.Query()
	o := Options{Prefix: DefaultPrefix, Lease: DefaultLease, MaxReceive: DefaultMaxReceive, WaitTime: DefaultWaitTime}
	if v := q.Get("prefix"); v != "" {
		o.Prefix = v
	}
	for name, p := range map[string]*time.Duration{"lease": &o.Lease, "waittime": &o.WaitTime} {
		if !q.Has(name) {
			continue
		}
		d, err := time.ParseDuration(q.Get(name))
		if err != nil {
			return nil, fmt.Errorf("%w: sqsbroker: %s %q: want a duration", tasks.ErrInvalid, name, q.Get(name))
		}
		*p = d
	}
	if q.Has("maxreceive") {
		n, err := strconv.Atoi(q.Get("maxreceive"))
		if err != nil || n < 0 || n > 1000 {
			return nil, fmt.Errorf("%w: sqsbroker: maxreceive %q: want 0 to 1000", tasks.ErrInvalid, q.Get("maxreceive"))
		}
		o.MaxReceive = n
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	protocol := q.Get("protocol")
	if protocol != "" && protocol != "json" && protocol != "query" {
		return nil, fmt.Errorf("%w: sqsbroker: protocol %q: want json or query", tasks.ErrInvalid, protocol)
	}
	for _, k := range []string{"prefix", "lease", "waittime", "maxreceive", "protocol"} {
		q.Del(k)
	}
	cfg, err := gcaws.V2ConfigFromURLParams(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%w: sqsbroker: %v", tasks.ErrInvalid, err)
	}
	client := sqs.NewFromConfig(cfg, func(so *sqs.Options) {
		if protocol == "query" {
			so.Protocol = awsquery.New(schemas.AmazonSQS)
		}
	})
	return New(client, o), nil
}

func (o Options) check() error {
	if o.Lease < time.Second || o.Lease > 12*time.Hour || o.Lease%time.Second != 0 {
		return fmt.Errorf("%w: sqsbroker: lease %v: want whole seconds from 1s to 12h", tasks.ErrInvalid, o.Lease)
	}
	if o.WaitTime < 0 || o.WaitTime > 20*time.Second {
		return fmt.Errorf("%w: sqsbroker: waittime %v: want 0 to 20s", tasks.ErrInvalid, o.WaitTime)
	}
	return nil
}

// New returns a broker on an SQS client (whose connections it does not
// own).
func New(client *sqs.Client, o Options) *Broker {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Lease == 0 {
		o.Lease = DefaultLease
	}
	if o.WaitTime == 0 {
		o.WaitTime = DefaultWaitTime
	}
	return &Broker{client: client, opts: o, queues: map[string]string{}, topics: map[string]*pubsub.Topic{}}
}

// Client returns the SQS client.
func (b *Broker) Client() *sqs.Client { return b.client }

// QueueName returns the SQS queue name of a task queue.
func (b *Broker) QueueName(queue string) string {
	return b.opts.Prefix + "-" + strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, queue)
}

func leaseSeconds(d time.Duration) int32 { return int32(math.Ceil(d.Seconds())) }

// QueueURL returns the URL of a task queue's SQS queue, creating it (and its
// dead-letter queue) if needed.
func (b *Broker) QueueURL(ctx context.Context, queue string) (string, error) {
	b.mu.Lock()
	u, ok := b.queues[queue]
	b.mu.Unlock()
	if ok {
		return u, nil
	}
	name := b.QueueName(queue)
	attrs := map[string]string{"VisibilityTimeout": strconv.Itoa(int(leaseSeconds(b.opts.Lease)))}
	if b.opts.MaxReceive > 0 {
		dlq, err := b.createQueue(ctx, name+"-dlq", map[string]string{"MessageRetentionPeriod": "1209600"})
		if err != nil {
			return "", err
		}
		a, err := b.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(dlq), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			return "", fmt.Errorf("sqsbroker: dead-letter queue of %s: %w", name, err)
		}
		arn := a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
		if arn == "" {
			return "", fmt.Errorf("sqsbroker: dead-letter queue of %s has no ARN", name)
		}
		p, _ := json.Marshal(map[string]string{"maxReceiveCount": strconv.Itoa(b.opts.MaxReceive), "deadLetterTargetArn": arn})
		attrs["RedrivePolicy"] = string(p)
	}
	u, err := b.createQueue(ctx, name, attrs)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	b.queues[queue] = u
	b.mu.Unlock()
	return u, nil
}

// createQueue creates a queue or, if it exists with other attributes, sets
// ours on it.
func (b *Broker) createQueue(ctx context.Context, name string, attrs map[string]string) (string, error) {
	out, err := b.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err == nil {
		return aws.ToString(out.QueueUrl), nil
	}
	var exists *sqstypes.QueueNameExists
	if !errors.As(err, &exists) {
		return "", fmt.Errorf("sqsbroker: create queue %s: %w", name, err)
	}
	g, err := b.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("sqsbroker: queue %s: %w", name, err)
	}
	if _, err := b.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: g.QueueUrl, Attributes: attrs}); err != nil {
		return "", fmt.Errorf("sqsbroker: set attributes of %s: %w", name, err)
	}
	return aws.ToString(g.QueueUrl), nil
}

func (b *Broker) topic(ctx context.Context, queue string) (*pubsub.Topic, error) {
	qu, err := b.QueueURL(ctx, queue)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("sqsbroker: closed")
	}
	t, ok := b.topics[queue]
	if !ok {
		t = awssnssqs.OpenSQSTopic(ctx, b.client, qu, &awssnssqs.TopicOptions{BodyBase64Encoding: awssnssqs.Never})
		b.topics[queue] = t
	}
	return t, nil
}

// Publish implements tasks.Broker: concurrent Sends, which gocloud groups
// into SendMessageBatch calls of 10.
func (b *Broker) Publish(ctx context.Context, queue string, ids []int64) error {
	t, err := b.topic(ctx, queue)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(100)
	for _, id := range ids {
		g.Go(func() error {
			return t.Send(gctx, &pubsub.Message{Body: []byte(strconv.FormatInt(id, 10))})
		})
	}
	if err := g.Wait(); err != nil {
		// The queue may be gone (deleted, or an emulator restarted):
		// resolve (and create) it again next time.
		b.forget(queue, true)
		return fmt.Errorf("sqsbroker: publish to %s: %w", b.QueueName(queue), err)
	}
	return nil
}

// forget drops the cached URL (and topic) of a task queue.
func (b *Broker) forget(queue string, topic bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.queues, queue)
	if t, ok := b.topics[queue]; ok && topic {
		delete(b.topics, queue)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = t.Shutdown(ctx)
		}()
	}
}

// Close implements tasks.Broker.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, t := range b.topics {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = t.Shutdown(ctx)
		cancel()
	}
	b.topics = map[string]*pubsub.Topic{}
	return nil
}

// Subscribe implements tasks.Broker. The subscription holds at most
// 10×prefetch received messages unacknowledged.
func (b *Broker) Subscribe(ctx context.Context, queue string, prefetch int) (tasks.Subscription, error) {
	qu, err := b.QueueURL(ctx, queue)
	if err != nil {
		return nil, err
	}
	prefetch = max(prefetch, 1)
	sub := awssnssqs.OpenSubscription(ctx, b.client, qu, &awssnssqs.SubscriptionOptions{
		Raw:      true,
		NackLazy: true, // Nack is ours: ChangeMessageVisibility to 0
		WaitTime: b.opts.WaitTime,
	})
	// Deliveries are acked only once their outcome is committed (the
	// completer batches commits): the unacked window spans several batches.
	s := &subscription{b: b, queue: queue, qURL: qu, sub: sub, window: brokerutil.NewWindow[*delivery](10 * prefetch), loops: brokerutil.NewLoops()}
	// Keep the messages this subscription holds invisible to other workers
	// while their tasks run.
	s.loops.Every(b.opts.Lease/3, s.extend)
	return s, nil
}

type subscription struct {
	b      *Broker
	queue  string
	window *brokerutil.Window[*delivery] // received, neither acked nor nacked
	loops  *brokerutil.Loops

	mu   sync.Mutex // guards qURL and sub; taken after loops' lock
	qURL string
	sub  *pubsub.Subscription
}

// Receive implements tasks.Subscription: after a failure (server down) it
// keeps trying until ctx ends.
func (s *subscription) Receive(ctx context.Context) (tasks.Delivery, error) {
	if err := s.window.Reserve(ctx); err != nil {
		return nil, err
	}
	backoff := 50 * time.Millisecond
	for {
		s.mu.Lock()
		sub := s.sub
		s.mu.Unlock()
		m, err := sub.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				s.window.Unreserve(1)
				return nil, ctx.Err()
			}
			if s.loops.Closed() {
				s.window.Unreserve(1)
				return nil, err
			}
			// gocloud's Subscription is dead after a non-retryable
			// error: open a fresh one, on the queue resolved (and
			// created) again in case it is gone.
			s.reopen(ctx, sub)
			select {
			case <-ctx.Done():
				s.window.Unreserve(1)
				return nil, ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		id, perr := strconv.ParseInt(string(m.Body), 10, 64)
		var raw sqstypes.Message
		if perr != nil || !m.As(&raw) || raw.ReceiptHandle == nil {
			m.Ack() // not ours: drop
			continue
		}
		s.mu.Lock()
		from, qu := s.sub, s.qURL
		s.mu.Unlock()
		d := &delivery{s: s, m: m, from: from, qURL: qu, id: id, handle: aws.ToString(raw.ReceiptHandle)}
		s.window.Hold(d)
		return d, nil
	}
}

func (s *subscription) reopen(ctx context.Context, failed *pubsub.Subscription) {
	s.mu.Lock()
	current := s.sub == failed
	s.mu.Unlock()
	if !current {
		return // another receiver did it
	}
	s.b.forget(s.queue, false)
	qu, err := s.b.QueueURL(ctx, s.queue)
	if err != nil {
		return // server still down: the next Receive fails and retries
	}
	var old *pubsub.Subscription
	s.loops.IfOpen(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.sub != failed {
			return
		}
		old = s.sub
		s.qURL = qu
		s.sub = awssnssqs.OpenSubscription(s.loops.Context(), s.b.client, qu, &awssnssqs.SubscriptionOptions{
			Raw: true, NackLazy: true, WaitTime: s.b.opts.WaitTime,
		})
	})
	if old == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = old.Shutdown(ctx)
	}()
}

// extend renews the visibility timeout of the messages this subscription
// holds.
func (s *subscription) extend(ctx context.Context) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, d := range s.window.Held() {
		g.Go(func() error {
			_ = s.setVisibility(gctx, d, leaseSeconds(s.b.opts.Lease))
			return nil
		})
	}
	_ = g.Wait()
}

func (s *subscription) setVisibility(ctx context.Context, d *delivery, secs int32) error {
	_, err := s.b.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(d.qURL), ReceiptHandle: aws.String(d.handle), VisibilityTimeout: secs,
	})
	return err
}

// Close implements tasks.Subscription. Deliveries still held keep working
// (Ack, Nack) but are no longer extended.
func (s *subscription) Close() error {
	var sub *pubsub.Subscription
	if !s.loops.Close(func() {
		s.mu.Lock()
		sub = s.sub
		s.mu.Unlock()
	}) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return sub.Shutdown(ctx)
}

type delivery struct {
	s      *subscription
	m      *pubsub.Message
	from   *pubsub.Subscription // the gocloud subscription m came from
	qURL   string
	id     int64
	handle string
	once   sync.Once
}

func (d *delivery) TaskID() int64 { return d.id }

// Ack deletes the message: batched by gocloud, or at once if the
// subscription it came from was closed or replaced meanwhile (gocloud drops
// acks after Shutdown).
func (d *delivery) Ack() {
	d.once.Do(func() {
		d.s.window.Release(d)
		live := false
		d.s.loops.IfOpen(func() {
			d.s.mu.Lock()
			live = d.s.sub == d.from
			d.s.mu.Unlock()
		})
		d.m.Ack()
		if live {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = d.s.b.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(d.qURL), ReceiptHandle: aws.String(d.handle)})
	})
}

// Nack makes the message visible again at once.
func (d *delivery) Nack() {
	d.once.Do(func() {
		d.s.window.Release(d)
		d.m.Nack() // lazy: only tells gocloud the message is done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = d.s.setVisibility(ctx, d, 0)
	})
}
