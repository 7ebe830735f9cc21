package brokerutil_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/repokit/repokit/internal/testenv"
	"github.com/repokit/repokit/tasks/broker/internal/brokerutil"
)

func TestWindow(t *testing.T) {
	w := brokerutil.NewWindow[string](3)
	if w.Size() != 3 {
		t.Fatalf("Size %d, want 3", w.Size())
	}
	ctx := context.Background()
	if err := w.Reserve(ctx); err != nil {
		t.Fatal(err)
	}
	if n := w.ReserveUpTo(5); n != 2 {
		t.Fatalf("ReserveUpTo(5) took %d of the 2 left", n)
	}
	// Full: Reserve waits until ctx ends.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := w.Reserve(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Reserve on a full window: %v", err)
	}
	if n := w.ReserveUpTo(1); n != 0 {
		t.Fatalf("ReserveUpTo on a full window took %d", n)
	}
	// Two messages came for the three credits, the second twice.
	w.Unreserve(1)
	if !w.Hold("a") || !w.Hold("b") {
		t.Fatal("Hold of new keys refused")
	}
	if w.Hold("b") {
		t.Fatal("Hold of a held key accepted")
	}
	got := w.Held()
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Held %v", got)
	}
	if n := w.ReserveUpTo(1); n != 1 {
		t.Fatalf("the unreserved credit is not free: took %d", n)
	}
	w.Unreserve(1)
	// Release frees the credit once, and only for a held key.
	if !w.Release("a") || w.Release("a") || w.Release("zz") {
		t.Fatal("Release: want true once for a held key, false otherwise")
	}
	if n := w.ReserveUpTo(3); n != 2 {
		t.Fatalf("after releasing a, %d credits free, want 2", n)
	}
	// A Reserve waiting on a full window goes on when a key is released.
	done := make(chan error, 1)
	go func() { done <- w.Reserve(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("Reserve on a full window returned %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	w.Release("b")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testenv.Scaled(10 * time.Second)):
		t.Fatal("Reserve still waiting after a Release")
	}
}

func TestLoops(t *testing.T) {
	l := brokerutil.NewLoops()
	var ticks atomic.Int64
	l.Every(time.Millisecond, func(ctx context.Context) {
		if ctx.Err() == nil {
			ticks.Add(1)
		}
	})
	stopped := make(chan struct{})
	l.Go(func(ctx context.Context) {
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond) // Close must wait for this
		close(stopped)
	})
	testenv.Within(t, 10*time.Second, "Every ticks", func() bool { return ticks.Load() >= 3 })
	if l.Closed() {
		t.Fatal("Closed before Close")
	}
	ran := false
	if !l.IfOpen(func() { ran = true }) || !ran {
		t.Fatal("IfOpen did not run f on an open subscription")
	}
	var atClose int
	if !l.Close(func() { atClose++ }) {
		t.Fatal("first Close reported false")
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Close returned before its goroutines")
	}
	if l.Context().Err() == nil {
		t.Fatal("context not ended by Close")
	}
	if l.Close(func() { atClose++ }) || atClose != 1 {
		t.Fatalf("second Close: atClose called %d times in all, want 1", atClose)
	}
	if l.IfOpen(func() { t.Error("IfOpen ran f after Close") }) || !l.Closed() {
		t.Fatal("IfOpen or Closed after Close")
	}
}
