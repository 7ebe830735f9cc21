package drivertest

import "testing"

func testOutage(t *testing.T, h Harness) { t.Skip("TODO") }
