package testenv

import (
	"testing"
	"time"
)

func TestScaled(t *testing.T) {
	t.Setenv(ScaleEnv, "")
	d := Scaled(time.Second)
	if d < time.Second || d > maxLoadScale*time.Second {
		t.Fatalf("Scaled(1s) = %v, want within [1s, %ds]", d, maxLoadScale)
	}
	t.Setenv(ScaleEnv, "3")
	if d3 := Scaled(time.Second); d3 < 3*time.Second {
		t.Fatalf("Scaled(1s) with %s=3 = %v, want >= 3s", ScaleEnv, d3)
	}
	t.Setenv(ScaleEnv, "0.1") // below 1: ignored, never shortens
	if d := Scaled(time.Second); d < time.Second {
		t.Fatalf("Scaled(1s) with %s=0.1 = %v, want >= 1s", ScaleEnv, d)
	}
}
