package drivertest

import "testing"

func testSession(t *testing.T, h Harness) { t.Skip("TODO") }
