package drivertest

import "testing"

func testPageCache(t *testing.T, h Harness) { t.Skip("TODO") }
