package memdriver_test

import (
	"testing"
	"time"

	"github.com/repokit/repokit/cache/driver"
	"github.com/repokit/repokit/cache/drivertest"
	"github.com/repokit/repokit/cache/memdriver"
)

func TestConformance(t *testing.T) {
	drivertest.RunConformanceTests(t, drivertest.Harness{
		Open: func(t *testing.T) driver.Driver {
			return memdriver.New(memdriver.WithMaxBytes(32 << 20))
		},
		MinTTL:              150 * time.Millisecond,
		DriverMaxValueBytes: 16 << 20,
	})
}
