// Package pubsubbroker delivers tasks through gocloud.dev/pubsub: in-process
// topics (mem://) and RabbitMQ (rabbit://, via gocloud.dev/pubsub/rabbitpubsub).
// Importing it registers both schemes with tasks.OpenBroker:
//
//	mem://name                                    in-process (tests, single binary)
//	rabbit://user:pass@host:5672/vhost?prefix=p   RabbitMQ; amqp:// and amqps:// work too
//
// Each task queue q maps to the topic/exchange and subscription/queue
// "<prefix>.<q>" (prefix defaults to "tasks"); RabbitMQ exchanges (fanout)
// and queues (durable) are declared on first use. Connections are redialled
// after any failure; a message lost meanwhile is published again by the
// tasks relay, because task state lives in SQL.
package pubsubbroker
