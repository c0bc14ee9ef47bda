// Command testsummary runs `go test -json` commands, prints what plain
// `go test` would (each package's ok/FAIL line, the output of failed tests,
// build errors), and ends with what the run did not do: every skipped test
// with its reason, which names how to enable it, plus the slowest packages
// and the total time. `make test` runs the suite through it, so that a
// green run says which checks were skipped instead of hiding them behind
// "ok".
//
//	go run ./internal/testsummary -- go test -race -json ./... + go -C onchain test -race -json ./...
//
// The commands after "--" are separated by a lone "+"; they run one after
// the other, their stderr passed through. The exit status is 1 when a
// command failed or any test or package failed, 0 otherwise.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	cmds, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	start := time.Now()
	s := newSummary(os.Stdout)
	failed := false
	for _, c := range cmds {
		if err := run(c, s); err != nil {
			fmt.Fprintf(os.Stderr, "testsummary: %s: %v\n", strings.Join(c, " "), err)
			failed = true
		}
	}
	s.report(time.Since(start))
	if failed || s.failed {
		os.Exit(1)
	}
}

// parseArgs splits "-- cmd a b + cmd c d" into commands.
func parseArgs(args []string) ([][]string, error) {
	if len(args) == 0 || args[0] != "--" {
		return nil, fmt.Errorf("usage: testsummary -- go test -json ./... [+ another command]")
	}
	var cmds [][]string
	cur := []string{}
	for _, a := range args[1:] {
		if a == "+" {
			cmds = append(cmds, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, a)
	}
	cmds = append(cmds, cur)
	for _, c := range cmds {
		if len(c) == 0 {
			return nil, fmt.Errorf("an empty command in %q", strings.Join(args, " "))
		}
	}
	return cmds, nil
}

// run runs one command and feeds its stdout to s.
func run(args []string, s *summary) error {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.read(out)
	return cmd.Wait()
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events
	Test       string
	Elapsed    float64
	Output     string
}

// skip is a skipped test and why.
type skip struct {
	pkg, test, reason string
}

// pkgTime is a package's test time.
type pkgTime struct {
	pkg     string
	elapsed time.Duration
}

type summary struct {
	out     io.Writer
	buf     map[string][]string // a running test's output, by package + test
	skips   []skip
	times   []pkgTime
	pkgs    int
	failed  bool
	failing []string
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, buf: map[string][]string{}}
}

// read consumes a stream of events; a line that is not JSON is printed as is.
func (s *summary) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(s.out, "%s\n", line)
			continue
		}
		s.add(e)
	}
}

// add handles one event.
func (s *summary) add(e event) {
	key := e.Package + "\x00" + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(s.out, e.Output)
	case e.Action == "build-fail":
		s.failed = true
	case e.Test == "" && e.Action == "output":
		if e.Output != "PASS\n" { // plain go test prints only the ok line
			fmt.Fprint(s.out, e.Output)
		}
	case e.Test == "" && (e.Action == "pass" || e.Action == "fail"):
		s.pkgs++
		s.times = append(s.times, pkgTime{e.Package, time.Duration(e.Elapsed * float64(time.Second))})
		if e.Action == "fail" {
			s.failed = true
		}
	case e.Test == "":
	case e.Action == "output":
		s.buf[key] = append(s.buf[key], e.Output)
	case e.Action == "fail":
		s.failed = true
		s.failing = append(s.failing, e.Package+" "+e.Test)
		fmt.Fprint(s.out, strings.Join(s.buf[key], ""))
		delete(s.buf, key)
	case e.Action == "skip":
		s.skips = append(s.skips, skip{e.Package, e.Test, skipReason(s.buf[key])})
		delete(s.buf, key)
	case e.Action == "pass":
		delete(s.buf, key)
	}
}

// skipReason is the message of a skipped test's output: its t.Skip and
// t.Log lines without the "file_test.go:12: " prefix and without go
// test's own "=== RUN" and "--- SKIP" lines.
func skipReason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		if i := strings.Index(t, ".go:"); i > 0 && !strings.Contains(t[:i], " ") {
			if j := strings.Index(t[i+4:], ": "); j >= 0 {
				t = t[i+4+j+2:]
			}
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "no reason given"
	}
	return strings.Join(parts, " ")
}

// report prints the summary: failures, skips grouped by reason, the
// slowest packages and the total time.
func (s *summary) report(total time.Duration) {
	w := s.out
	fmt.Fprintf(w, "\n==== summary: %d packages tested in %s\n", s.pkgs, total.Round(time.Second))
	if len(s.failing) > 0 {
		fmt.Fprintf(w, "FAILED: %d tests:\n", len(s.failing))
		for _, f := range s.failing {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	s.reportSkips()
	slices.SortFunc(s.times, func(a, b pkgTime) int { return int(b.elapsed - a.elapsed) })
	if len(s.times) > 0 {
		fmt.Fprintln(w, "Slowest packages (test time, build excluded):")
		for _, t := range s.times[:min(5, len(s.times))] {
			fmt.Fprintf(w, "  %7s  %s\n", t.elapsed.Round(100*time.Millisecond), shortPkg(t.pkg))
		}
	}
}

// reportSkips lists skipped tests grouped by reason, so that one missing
// tool shows once with the tests it cost.
func (s *summary) reportSkips() {
	w := s.out
	if len(s.skips) == 0 {
		fmt.Fprintln(w, "Skipped: none (every check ran, including those needing node, npm, chromium and the official OpenAPI document).")
		return
	}
	fmt.Fprintf(w, "Skipped: %d tests. Each reason says how to enable the check; "+
		"PHALA_REQUIRE_TOOLS=1 turns these skips into failures (as .ci/run does).\n", len(s.skips))
	var reasons []string
	byReason := map[string][]skip{}
	for _, k := range s.skips {
		if _, ok := byReason[k.reason]; !ok {
			reasons = append(reasons, k.reason)
		}
		byReason[k.reason] = append(byReason[k.reason], k)
	}
	for _, r := range reasons {
		var names []string
		for _, k := range byReason[r] {
			names = append(names, shortPkg(k.pkg)+"."+k.test)
		}
		fmt.Fprintf(w, "  - %s\n    (%s)\n", r, strings.Join(names, ", "))
	}
}

// shortPkg drops the module path from a package path.
func shortPkg(p string) string {
	if rest, ok := strings.CutPrefix(p, "github.com/phalacloud/go-sdk/"); ok {
		return rest
	}
	return p
}
