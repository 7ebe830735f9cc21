// Command testsummary reads "go test -json" on standard input and prints
// what CI needs to read: the full output of every failing test (its
// assertion messages included), the output of packages that failed outside
// any test (build errors, panics, timeouts), one line per package, the
// lines of tests skipped for want of a service, and a closing
// "N passed, N failed, N skipped". With -log FILE it also writes the plain
// text output of the whole run to FILE. It exits 1 when a test or package
// failed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output, build-fail
}

type key struct{ pkg, test string }

func main() {
	logPath := flag.String("log", "", "write the plain text output of the run to this file")
	flag.Parse()
	var logW io.Writer = io.Discard
	var bw *bufio.Writer
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
			os.Exit(2)
		}
		defer f.Close()
		bw = bufio.NewWriter(f)
		logW = bw
	}
	code := summarize(os.Stdin, os.Stdout, logW)
	if bw != nil {
		if err := bw.Flush(); err != nil {
			fmt.Fprintln(os.Stderr, "testsummary:", err)
		}
	}
	os.Exit(code)
}

var summaryLine = regexp.MustCompile(`^(ok|FAIL|\?)\s`)

func summarize(in io.Reader, out, logW io.Writer) int {
	outputs := map[key][]string{}
	build := map[string][]string{}
	var failedTests []key
	var failedPkgs, buildFailed []string
	var pkgLines, skipLines, stray []string
	passed, failed, skipped := 0, 0, 0

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || (e.Action == "" && e.ImportPath == "") {
			// Not an event (go vet or build messages printed as text).
			stray = append(stray, string(line))
			fmt.Fprintln(logW, string(line))
			continue
		}
		switch e.Action {
		case "build-output":
			build[e.ImportPath] = append(build[e.ImportPath], e.Output)
			io.WriteString(logW, e.Output)
		case "build-fail":
			buildFailed = append(buildFailed, e.ImportPath)
		case "output":
			io.WriteString(logW, e.Output)
			k := key{e.Package, e.Test}
			outputs[k] = append(outputs[k], e.Output)
			if e.Test == "" {
				t := strings.TrimRight(e.Output, "\n")
				switch {
				case summaryLine.MatchString(t):
					pkgLines = append(pkgLines, t)
				case strings.HasPrefix(t, "repokit: ") && strings.Contains(t, "skipped (no "):
					skipLines = append(skipLines, t)
				}
			}
		case "pass":
			if e.Test != "" {
				passed++
			}
		case "skip":
			if e.Test != "" {
				skipped++
			}
		case "fail":
			if e.Test != "" {
				failed++
				failedTests = append(failedTests, key{e.Package, e.Test})
			} else {
				failedPkgs = append(failedPkgs, e.Package)
			}
		}
	}

	for _, p := range buildFailed {
		fmt.Fprintf(out, "\n=== BUILD FAILED %s\n", p)
		for _, l := range build[p] {
			io.WriteString(out, l)
		}
	}
	for _, k := range failedTests {
		lines := outputs[k]
		if hasFailedChild(k, failedTests) {
			continue // its failing subtests are printed with their own output
		}
		fmt.Fprintf(out, "\n=== FAIL %s %s\n", k.pkg, k.test)
		for _, l := range tail(lines, 300) {
			io.WriteString(out, l)
		}
	}
	for _, p := range failedPkgs {
		if hasFailedTest(p, failedTests) {
			continue
		}
		fmt.Fprintf(out, "\n=== FAIL %s (outside any test: build error, panic, timeout or TestMain)\n", p)
		for _, l := range tail(outputs[key{p, ""}], 150) {
			io.WriteString(out, l)
		}
	}
	if len(stray) > 0 && (len(failedPkgs) > 0 || len(buildFailed) > 0) {
		fmt.Fprintln(out, "\n=== other messages")
		for _, l := range tail(stray, 100) {
			fmt.Fprintln(out, l)
		}
	}
	fmt.Fprintln(out)
	for _, l := range pkgLines {
		fmt.Fprintln(out, l)
	}
	sort.Strings(skipLines)
	for _, l := range skipLines {
		fmt.Fprintln(out, l)
	}
	if failed == 0 && (len(failedPkgs) > 0 || len(buildFailed) > 0) {
		failed = max(len(failedPkgs), len(buildFailed))
	}
	fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 {
		return 1
	}
	return 0
}

func hasFailedChild(k key, failed []key) bool {
	for _, f := range failed {
		if f.pkg == k.pkg && strings.HasPrefix(f.test, k.test+"/") {
			return true
		}
	}
	return false
}

func hasFailedTest(pkg string, failed []key) bool {
	for _, f := range failed {
		if f.pkg == pkg {
			return true
		}
	}
	return false
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return append([]string{fmt.Sprintf("... (%d earlier lines in the full log)\n", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return lines
}
