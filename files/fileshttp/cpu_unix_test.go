//go:build unix

package fileshttp_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time this process has used in user space and
// in the kernel. Benchmarks report it per operation next to wall time: on
// a machine shared with other work it measures the cost of an operation
// much more steadily than wall time does, and the split shows what the
// process does itself apart from the kernel's copying and networking.
func processCPU() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
