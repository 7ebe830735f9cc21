package records_test

import (
	"testing"

	"github.com/repokit/repokit/internal/testenv"
)

// TestMain ends the run with one line per service whose tests were skipped.
func TestMain(m *testing.M) { testenv.Main(m) }
