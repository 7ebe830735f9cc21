package memdriver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/memdriver"
)

// TestStress hammers a small cache (constant eviction) with mixed operations
// from many goroutines and checks that no value is ever served under the
// wrong key, that the byte budget holds, and that the LRU list and the index
// stay in step (every indexed key is readable or expired).
func TestStress(t *testing.T) {
	ctx := context.Background()
	const budget = 256 << 10
	d := memdriver.New(memdriver.WithMaxBytes(budget), memdriver.WithShards(4))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for i := range 3000 {
				k := fmt.Sprintf("k%d", r.IntN(400))
				switch op := r.IntN(10); {
				case op < 4:
					v, err := d.Get(ctx, k)
					if err == nil && !bytes.HasPrefix(v, []byte(k+"=")) {
						t.Errorf("Get(%s) returned %q", k, v)
						return
					}
				case op < 7:
					v := append([]byte(k+"="), bytes.Repeat([]byte{'x'}, r.IntN(2000))...)
					var ttl time.Duration
					if r.IntN(4) == 0 {
						ttl = time.Duration(1+r.IntN(5)) * time.Millisecond
					}
					if err := d.Set(ctx, k, v, ttl); err != nil {
						t.Error(err)
						return
					}
				case op < 8:
					_ = d.Add(ctx, k, []byte(k+"=added"), 0)
				case op < 9:
					_ = d.Delete(ctx, k)
				default:
					_ = d.CompareAndDelete(ctx, k, []byte(k+"=added"))
				}
				if i%500 == 0 && d.Bytes() > budget {
					t.Errorf("holding %d bytes, budget %d", d.Bytes(), budget)
					return
				}
			}
		})
	}
	wg.Wait()
	if d.Bytes() > budget || d.Bytes() < 0 {
		t.Fatalf("accounted bytes %d outside [0, %d]", d.Bytes(), budget)
	}
	for i := range 400 {
		k := fmt.Sprintf("k%d", i)
		if v, err := d.Get(ctx, k); err == nil && !bytes.HasPrefix(v, []byte(k+"=")) {
			t.Fatalf("final Get(%s) = %q", k, v)
		} else if err != nil && !errors.Is(err, driver.ErrMiss) {
			t.Fatal(err)
		}
	}
	// Deleting everything must bring the accounting back to zero.
	for i := range 400 {
		_ = d.Delete(ctx, fmt.Sprintf("k%d", i))
	}
	if d.Len() != 0 || d.Bytes() != 0 {
		t.Fatalf("after deleting every key: %d entries, %d bytes", d.Len(), d.Bytes())
	}
}
