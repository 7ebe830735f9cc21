package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// stageResult is what one stage measured: its wall time, the peak resident
// set while it ran (VmHWM, reset at the stage start), the peak anonymous
// resident set sampled every 20 ms (the process's own memory: VmHWM also
// counts the file pages of the mmapped bleve segments and SQLite's cache
// that the kernel can drop), the resident set the stage started from, and
// the load average at its end.
type stageResult struct {
	name            string
	wall, cpu       time.Duration // cpu: user + system time of the process
	peak, peakAnon  int64
	startRSS, start int64 // resident set and its anonymous part at the start
	load            string
	note            string
}

// measure runs fn as a stage: it returns what the Go heap does not need to
// the OS, resets the peak resident set (writing 5 to /proc/self/clear_refs),
// samples RssAnon while fn runs and reports the stage's figures.
func measure(name string, fn func() (string, error)) (stageResult, error) {
	debug.FreeOSMemory()
	resetHWM()
	r := stageResult{name: name, startRSS: procStatus("VmRSS"), start: procStatus("RssAnon")}
	var peakAnon atomic.Int64
	peakAnon.Store(r.start)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if a := procStatus("RssAnon"); a > peakAnon.Load() {
					peakAnon.Store(a)
				}
			}
		}
	}()
	t0, c0 := time.Now(), processCPU()
	note, err := fn()
	r.wall, r.cpu = time.Since(t0), processCPU()-c0
	close(stop)
	<-done
	if a := procStatus("RssAnon"); a > peakAnon.Load() {
		peakAnon.Store(a)
	}
	r.peak, r.peakAnon, r.load, r.note = procStatus("VmHWM"), peakAnon.Load(), loadavg(), note
	fmt.Fprintf(os.Stderr, "scalebench: stage %-28s %10s (CPU %s)  peak RSS %4.0f MiB (anon %4.0f MiB; started at %4.0f / %4.0f MiB)  load %s  %s\n",
		name, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond), mib(r.peak), mib(r.peakAnon), mib(r.startRSS), mib(r.start), r.load, note)
	return r, err
}

// processCPU is the user + system CPU time this process has used: on a
// shared machine it measures a stage's cost more steadily than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetHWM resets VmHWM to the current resident set (Linux ≥ 4.0).
func resetHWM() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// procStatus returns a kB field of /proc/self/status, in bytes.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, field+":")), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}
