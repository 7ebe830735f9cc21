// Package testenv is how RepoKit's tests find the services they need and
// tell what they skipped. A test that needs a service calls Service with the
// variable holding its URL: without it the test is skipped, or fails when
// REPOKIT_TEST_REQUIRE_SERVICES=1 (CI). A package whose tests do so runs them
// through Main, which ends the run with one line per missing service, so
// that "go test ./..." on a fresh machine says what did not run instead of a
// bare "ok":
//
//	repokit: cache/redisdriver: skipped (no REPOKIT_TEST_REDIS_URL): 42 tests
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
package testenv

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// RequireEnv, set to 1, turns a skip for a missing service into a failure.
const RequireEnv = "REPOKIT_TEST_REQUIRE_SERVICES"

// Required reports whether REPOKIT_TEST_REQUIRE_SERVICES=1.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

var (
	mu      sync.Mutex
	skipped = map[string]int{} // what is missing -> tests skipped for it
)

// Service returns the value of env (a service URL), or skips t when it is
// unset — failing it instead when REPOKIT_TEST_REQUIRE_SERVICES=1 — and
// counts the skip for Main's summary.
func Service(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if Required() {
			t.Fatalf("%s is not set and %s=1", env, RequireEnv)
		}
		Skip(t, env, fmt.Sprintf("%s not set; skipping", env))
	}
	return v
}

// Optional returns the value of env, or skips t when it is unset even under
// REPOKIT_TEST_REQUIRE_SERVICES (for services CI cannot run), counting the
// skip for Main's summary.
func Optional(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		Skip(t, env, fmt.Sprintf("%s not set; skipping", env))
	}
	return v
}

// Binary returns the path of the program name (looked up in PATH and then in
// the given directories), or skips t — failing it under
// REPOKIT_TEST_REQUIRE_SERVICES=1 — counting the skip for Main's summary.
func Binary(t testing.TB, name string, dirs ...string) string {
	t.Helper()
	if p, err := lookPath(name, dirs); err == nil {
		return p
	}
	if Required() {
		t.Fatalf("program %s not found and %s=1", name, RequireEnv)
	}
	Skip(t, name, fmt.Sprintf("program %s not found; skipping", name))
	return ""
}

// Skip records that t is skipped for want of what (a variable or program
// name) and skips it with msg.
func Skip(t testing.TB, what, msg string) {
	t.Helper()
	mu.Lock()
	skipped[what]++
	mu.Unlock()
	t.Skip(msg)
}

// Main runs the package's tests (m.Run), prints the skip summary and exits
// with the tests' status.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that does more.
func Run(m *testing.M) int {
	code := m.Run()
	Report()
	return code
}

// Report prints one line per missing service with the number of tests
// skipped for it. "go test" shows a passing package's output only with -v,
// so without -v the lines go to the go command's own standard output (on
// Linux, through /proc), where they appear next to the package's "ok".
func Report() {
	mu.Lock()
	var lines []string
	for what, n := range skipped {
		lines = append(lines, fmt.Sprintf("repokit: %s: skipped (no %s): %d tests\n", pkgName(), what, n))
	}
	mu.Unlock()
	if len(lines) == 0 {
		return
	}
	sort.Strings(lines)
	w, closeW := summaryWriter()
	defer closeW()
	for _, l := range lines {
		_, _ = io.WriteString(w, l)
	}
}

func summaryWriter() (io.Writer, func()) {
	if testing.Verbose() {
		return os.Stdout, func() {}
	}
	ppid := os.Getppid()
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ppid))
	if err != nil || strings.TrimSpace(string(comm)) != "go" {
		return os.Stdout, func() {}
	}
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/1", ppid), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return os.Stdout, func() {}
	}
	return f, func() { _ = f.Close() }
}

// pkgName is the test's package directory relative to its module root (go
// test runs the binary in the package's directory).
func pkgName() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return modulePath(dir)
			}
			return filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Base(wd)
		}
		dir = parent
	}
}

func modulePath(dir string) string {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return filepath.Base(dir)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.TrimSpace(p)
		}
	}
	return filepath.Base(dir)
}

func lookPath(name string, dirs []string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}
