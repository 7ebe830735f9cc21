package testenv

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ScaleEnv, set to a number >= 1, multiplies every deadline Scaled returns
// (for a machine slower than its load average shows, e.g. under -race).
const ScaleEnv = "REPOKIT_TEST_TIMEOUT_SCALE"

// maxLoadScale bounds the factor taken from the load average: a test that
// needs more than that is stuck, not slow.
const maxLoadScale = 10

// Scaled returns d stretched for a loaded machine: multiplied by the
// 1-minute load average per CPU when that is above 1 (at most 10 times), and
// by REPOKIT_TEST_TIMEOUT_SCALE when set. Tests use it for the deadline of
// a condition they poll (never for a sleep before an assertion), so a busy
// CI machine makes them slower, not red, while a condition that never
// holds still fails.
func Scaled(d time.Duration) time.Duration {
	f := loadScale()
	if v, err := strconv.ParseFloat(os.Getenv(ScaleEnv), 64); err == nil && v >= 1 {
		f *= v
	}
	return time.Duration(float64(d) * f)
}

// loadScale is the 1-minute load average per CPU, within [1, maxLoadScale].
func loadScale() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 1
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 1
	}
	load, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || math.IsNaN(load) {
		return 1
	}
	return min(max(load/float64(runtime.NumCPU()), 1), maxLoadScale)
}

// Within polls cond every 20 ms until it holds, and fails t if it does not
// within d stretched for the machine's load (Scaled). It is the one
// poll-with-deadline helper of the module's tests: a test waits for the
// condition it asserts, never for a fixed time.
func Within(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	d = Scaled(d)
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
