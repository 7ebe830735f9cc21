//go:build unix

package blevesearch_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user+system) the process used so far, so that
// throughput can be reported per CPU second, which a loaded machine
// distorts much less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
