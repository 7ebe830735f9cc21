package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/robfig/cron/v3"

	"github.com/repokit/repokit/internal/sqldb"
)

// Spec is a parsed schedule: the next tick strictly after a time.
type Spec interface {
	Next(t time.Time) time.Time
}

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSpec parses a cron expression (5 fields, or 6 with leading seconds),
// a descriptor (@hourly, @daily...) or "@every <duration>". Intervals are
// aligned to the Unix epoch so every process computes the same ticks. A bad
// spec gives an error wrapping ErrBadSchedule.
func ParseSpec(spec string) (Spec, error) {
	if rest, ok := strings.CutPrefix(strings.TrimSpace(spec), "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%w: %q: bad interval", ErrBadSchedule, spec)
		}
		return Every(d), nil
	}
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrBadSchedule, spec, err)
	}
	return s, nil
}

// Every is an interval schedule aligned to the Unix epoch.
type Every time.Duration

// Next implements Spec.
func (e Every) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return t.Truncate(d).Add(d)
}

type schedule struct {
	name string
	spec Spec
	typ  string
	args json.RawMessage
	opts []EnqueueOption
}

// Schedule enqueues a taskType task with args at every tick of spec (see
// ParseSpec). The task carries the tick it was fired for (Task.Tick,
// Info.Tick), the same on every retry, so that a handler can make its work
// idempotent per tick. With several processes running the same schedule,
// each tick fires exactly once: the tick is claimed in SQL in the transaction that
// enqueues the task. Ticks missed while no client runs are skipped. Call
// before Start.
func (c *Client) Schedule(name, spec, taskType string, args any, opts ...EnqueueOption) error {
	s, err := ParseSpec(spec)
	if err != nil {
		return err
	}
	return c.ScheduleSpec(name, s, taskType, args, opts...)
}

// ScheduleSpec is Schedule with a parsed (or custom) Spec.
func (c *Client) ScheduleSpec(name string, spec Spec, taskType string, args any, opts ...EnqueueOption) error {
	if name == "" || len(name) > 255 || spec == nil {
		return fmt.Errorf("%w: schedule name must be 1-255 bytes and spec non-nil", ErrInvalid)
	}
	if e, ok := spec.(Every); ok && time.Duration(e) <= 0 {
		return fmt.Errorf("%w: interval must be positive", ErrBadSchedule)
	}
	if _, err := c.newRow(taskType, args, opts); err != nil {
		return err
	}
	raw, _ := json.Marshal(args)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return fmt.Errorf("%w: Schedule after Start", ErrInvalid)
	}
	for _, s := range c.schedules {
		if s.name == name {
			return fmt.Errorf("%w: schedule %q defined twice", ErrInvalid, name)
		}
	}
	c.schedules = append(c.schedules, &schedule{name: name, spec: spec, typ: taskType, args: raw, opts: opts})
	return nil
}

func (c *Client) runScheduler(ctx context.Context) {
	next := make([]time.Time, len(c.schedules))
	now := c.st.now()
	for i, s := range c.schedules {
		next[i] = s.spec.Next(now)
		if next[i].IsZero() {
			c.log.Warn("schedule never fires", "schedule", s.name)
		}
	}
	for {
		var soonest time.Time // zero: nothing will ever fire
		for _, n := range next {
			if !n.IsZero() && (soonest.IsZero() || n.Before(soonest)) {
				soonest = n
			}
		}
		var wake <-chan time.Time
		if !soonest.IsZero() {
			wake = time.After(max(time.Until(soonest), 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		now := c.st.now()
		for i, s := range c.schedules {
			if next[i].IsZero() || next[i].After(now) {
				continue
			}
			c.fire(ctx, s, next[i])
			next[i] = s.spec.Next(now)
		}
	}
}

// fire enqueues the task of one tick unless another client already did.
func (c *Client) fire(ctx context.Context, s *schedule, tick time.Time) {
	var id int64
	var fired bool
	queue := "default"
	err := sqldb.InTx(ctx, c.db, nil, func(tx *sqlx.Tx) error {
		ok, err := c.st.fireTick(ctx, tx, s.name, tick.UnixMicro())
		if err != nil || !ok {
			fired = false
			return err
		}
		r, err := c.newRow(s.typ, s.args, s.opts)
		if err != nil {
			return err
		}
		r.Tick = tick
		queue = r.Queue
		id, _, err = c.st.insert(ctx, tx, r)
		fired = err == nil
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("schedule tick", "schedule", s.name, "tick", tick, "err", err)
		}
		return
	}
	if fired {
		c.log.Debug("schedule fired", "schedule", s.name, "tick", tick, "task_id", id)
		c.wake(queue, s.typ)
	}
}
