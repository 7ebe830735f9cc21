package memcachedriver_test

import (
	"testing"

	"github.com/repokit/repokit/cache/drivertest"
)

func TestMain(m *testing.M) { drivertest.Main(m) }
