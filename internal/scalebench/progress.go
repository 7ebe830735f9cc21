package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress samples an import while it runs: records created, documents
// indexed (as the indexer reports them), process CPU and resident set. It
// prints a line per sample (so a long run shows how the rates move as the
// index grows) and, at the end, the indexing rate per band of the index's
// size.
type progress struct {
	indexed *atomic.Int64
	every   time.Duration
	start   time.Time
	cpu0    time.Duration
	created atomic.Int64

	mu      sync.Mutex
	samples []sample
	stop    chan struct{}
	done    chan struct{}
}

type sample struct {
	at               time.Duration // since start
	created, indexed int64
	cpu              time.Duration // process CPU since start
	rss, anon        int64
}

func startProgress(indexed *atomic.Int64, every time.Duration) *progress {
	p := &progress{indexed: indexed, every: every, start: time.Now(), cpu0: processCPU(), stop: make(chan struct{}), done: make(chan struct{})}
	p.samples = append(p.samples, sample{})
	if every <= 0 {
		close(p.done)
		return p
	}
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.sample()
			}
		}
	}()
	return p
}

// sample records and prints one sample.
func (p *progress) sample() {
	s := sample{at: time.Since(p.start), created: p.created.Load(), indexed: p.indexed.Load(), cpu: processCPU() - p.cpu0,
		rss: procStatus("VmRSS"), anon: procStatus("RssAnon")}
	p.mu.Lock()
	prev := p.samples[len(p.samples)-1]
	p.samples = append(p.samples, s)
	p.mu.Unlock()
	dt := (s.at - prev.at).Seconds()
	fmt.Fprintf(os.Stderr, "scalebench: import %7s  created %8d (%5.0f/s)  indexed %8d (%5.0f/s)  CPU %7s (%3.0f%% of a core)  RSS %4.0f MiB (anon %4.0f)  load %s\n",
		s.at.Round(time.Second), s.created, float64(s.created-prev.created)/dt, s.indexed, float64(s.indexed-prev.indexed)/dt,
		s.cpu.Round(100*time.Millisecond), 100*(s.cpu-prev.cpu).Seconds()/dt, mib(s.rss), mib(s.anon), loadavg())
}

// finish stops the sampling and records a last sample.
func (p *progress) finish() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
	p.sample()
}

// bands returns the indexing rate per band of index size (bands of n/parts
// documents), interpolating the time each band boundary was crossed between
// samples.
func (p *progress) bands(n int64, parts int) string {
	p.mu.Lock()
	ss := append([]sample(nil), p.samples...)
	p.mu.Unlock()
	if len(ss) < 2 || parts < 1 {
		return "no samples"
	}
	crossed := func(k int64) (time.Duration, time.Duration, bool) {
		for i := 1; i < len(ss); i++ {
			a, b := ss[i-1], ss[i]
			if b.indexed >= k && b.indexed > a.indexed {
				f := float64(k-a.indexed) / float64(b.indexed-a.indexed)
				if f < 0 {
					f = 0
				}
				return a.at + time.Duration(f*float64(b.at-a.at)), a.cpu + time.Duration(f*float64(b.cpu-a.cpu)), true
			}
		}
		return 0, 0, false
	}
	var out []string
	band := n / int64(parts)
	for i := 0; i < parts && band > 0; i++ {
		lo, hi := int64(i)*band, int64(i+1)*band
		t0, _, ok0 := crossed(lo)
		t1, _, ok1 := crossed(hi)
		if lo == 0 {
			t0, ok0 = 0, true
		}
		if !ok0 || !ok1 || t1 <= t0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s–%s: %.0f/s", short(lo), short(hi), float64(hi-lo)/(t1-t0).Seconds()))
	}
	return strings.Join(out, ", ")
}

func short(n int64) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// cpuBands returns the process CPU per indexed document once every record
// was created (the indexer is then the only work), per band of index size
// (bands of n/parts documents): whether indexing gets dearer as the index
// grows, independently of the machine's load.
func (p *progress) cpuBands(n int64, parts int) string {
	p.mu.Lock()
	ss := append([]sample(nil), p.samples...)
	p.mu.Unlock()
	band := n / int64(max(parts, 1))
	if band == 0 {
		return "no samples"
	}
	type acc struct {
		docs int64
		cpu  time.Duration
	}
	by := map[int64]*acc{}
	for i := 1; i < len(ss); i++ {
		a, b := ss[i-1], ss[i]
		if a.created < n || b.indexed <= a.indexed {
			continue
		}
		k := a.indexed / band
		if by[k] == nil {
			by[k] = &acc{}
		}
		by[k].docs += b.indexed - a.indexed
		by[k].cpu += b.cpu - a.cpu
	}
	var out []string
	for k := int64(0); k <= int64(parts); k++ {
		if a := by[k]; a != nil && a.docs >= band/10 {
			out = append(out, fmt.Sprintf("%s–%s: %.2f ms", short(k*band), short(min((k+1)*band, n)), float64(a.cpu.Microseconds())/1000/float64(a.docs)))
		}
	}
	if len(out) == 0 {
		return "too few samples after create"
	}
	return strings.Join(out, ", ")
}
