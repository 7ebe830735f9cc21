package drivertest

import (
	"flag"
	"github.com/repokit/repokit/internal/testenv"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// Parallelism is the -test.parallel value Main sets when the command line
// leaves it at its default. The suite's parallel tests spend their time
// sleeping through TTLs, not using CPU, so they may overlap beyond GOMAXPROCS.
const Parallelism = 8

// Main is a TestMain for driver test packages: it raises -test.parallel to
// Parallelism unless it was given explicitly, then runs the tests.
//
//	func TestMain(m *testing.M) { drivertest.Main(m) }
func Main(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.parallel"); f != nil && f.Value.String() == strconv.Itoa(runtime.GOMAXPROCS(0)) {
		explicit := false
		flag.Visit(func(v *flag.Flag) { explicit = explicit || v.Name == "test.parallel" })
		if !explicit {
			_ = f.Value.Set(strconv.Itoa(Parallelism))
		}
	}
	os.Exit(testenv.Run(m)) // with the summary of tests skipped for want of a service
}
