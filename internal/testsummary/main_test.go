package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pkgA = "github.com/phalacloud/go-sdk/openapi"

// stream is what `go test -json` writes for a run with skips, a failure,
// a build error and a stray line that is not JSON.
var stream = strings.Join([]string{
	`{"Action":"start","Package":"` + pkgA + `"}`,
	`{"Action":"run","Package":"` + pkgA + `","Test":"TestBrowser"}`,
	`{"Action":"output","Package":"` + pkgA + `","Test":"TestBrowser","Output":"=== RUN   TestBrowser\n"}`,
	`{"Action":"output","Package":"` + pkgA + `","Test":"TestBrowser","Output":"    docs_browser_test.go:130: chromium is not installed (apt-get install -y chromium, or set PHALA_CHROMIUM)\n"}`,
	`{"Action":"output","Package":"` + pkgA + `","Test":"TestBrowser","Output":"--- SKIP: TestBrowser (0.00s)\n"}`,
	`{"Action":"skip","Package":"` + pkgA + `","Test":"TestBrowser","Elapsed":0}`,
	`{"Action":"output","Package":"` + pkgA + `","Test":"TestDocA","Output":"    doc_test.go:25: the document is absent: set PHALA_OFFICIAL_OPENAPI\n"}`,
	`{"Action":"skip","Package":"` + pkgA + `","Test":"TestDocA"}`,
	`{"Action":"output","Package":"` + pkgA + `","Test":"TestDocB/sub","Output":"    doc_test.go:66: the document is absent: set PHALA_OFFICIAL_OPENAPI\n"}`,
	`{"Action":"skip","Package":"` + pkgA + `","Test":"TestDocB/sub"}`,
	`{"Action":"output","Package":"` + pkgA + `","Test":"TestOK","Output":"    ok_test.go:1: noise of a passing test\n"}`,
	`{"Action":"pass","Package":"` + pkgA + `","Test":"TestOK"}`,
	`{"Action":"output","Package":"` + pkgA + `","Test":"TestBad","Output":"    bad_test.go:9: want 1, got 2\n"}`,
	`{"Action":"output","Package":"` + pkgA + `","Test":"TestBad","Output":"--- FAIL: TestBad (0.01s)\n"}`,
	`{"Action":"fail","Package":"` + pkgA + `","Test":"TestBad"}`,
	`{"Action":"output","Package":"` + pkgA + `","Output":"PASS\n"}`,
	`{"Action":"output","Package":"` + pkgA + `","Output":"FAIL\t` + pkgA + `\t2.5s\n"}`,
	`{"Action":"fail","Package":"` + pkgA + `","Elapsed":2.5}`,
	`{"ImportPath":"github.com/phalacloud/go-sdk/broken","Action":"build-output","Output":"broken/x.go:3:1: syntax error\n"}`,
	`{"ImportPath":"github.com/phalacloud/go-sdk/broken","Action":"build-fail"}`,
	`go: warning: a line that is not JSON`,
}, "\n") + "\n"

func TestSummary(t *testing.T) {
	var out bytes.Buffer
	s := newSummary(&out)
	s.read(strings.NewReader(stream))
	s.report(3 * time.Second)
	text := out.String()
	assert.True(t, s.failed)
	for _, want := range []string{
		"bad_test.go:9: want 1, got 2\n--- FAIL: TestBad (0.01s)\n", // a failed test's output
		"FAIL\t" + pkgA + "\t2.5s\n",
		"broken/x.go:3:1: syntax error\n",
		"go: warning: a line that is not JSON\n",
		"FAILED: 1 tests:\n  " + pkgA + " TestBad\n",
		"Skipped: 3 tests.",
		"PHALA_REQUIRE_TOOLS=1",
		"  - chromium is not installed (apt-get install -y chromium, or set PHALA_CHROMIUM)\n    (openapi.TestBrowser)\n",
		// one reason, the tests it cost
		"  - the document is absent: set PHALA_OFFICIAL_OPENAPI\n    (openapi.TestDocA, openapi.TestDocB/sub)\n",
		"     2.5s  openapi\n",
	} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, "noise of a passing test")
	assert.NotContains(t, text, "PASS\n")
	assert.NotContains(t, text, "=== RUN")
}

func TestSummaryNoSkips(t *testing.T) {
	var out bytes.Buffer
	s := newSummary(&out)
	s.read(strings.NewReader(`{"Action":"pass","Package":"p","Test":"T"}` + "\n" + `{"Action":"pass","Package":"p","Elapsed":1}` + "\n"))
	s.report(time.Second)
	assert.False(t, s.failed)
	assert.Contains(t, out.String(), "Skipped: none")
}

func TestParseArgs(t *testing.T) {
	cmds, err := parseArgs([]string{"--", "go", "test", "./...", "+", "go", "-C", "onchain", "test", "./..."})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"go", "test", "./..."}, {"go", "-C", "onchain", "test", "./..."}}, cmds)
	for _, bad := range [][]string{nil, {"go"}, {"--"}, {"--", "go", "+"}} {
		_, err := parseArgs(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// A command that fails (here: one that does not exist) is reported.
func TestRunReportsAFailedCommand(t *testing.T) {
	s := newSummary(&bytes.Buffer{})
	assert.Error(t, run([]string{"/nonexistent/go"}, s))
	assert.NoError(t, run([]string{"true"}, s))
}
