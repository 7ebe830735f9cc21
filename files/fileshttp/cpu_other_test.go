//go:build !unix

package fileshttp_test

import "time"

// processCPU is not measured on this platform.
func processCPU() (user, sys time.Duration) { return 0, 0 }
