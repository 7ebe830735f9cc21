//go:build unix

package fileshttp_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user + system) this process has used.
// Benchmarks report it per operation next to wall time: on a machine
// shared with other work it measures the cost of an operation much more
// steadily than wall time does.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
