package phala

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// suiteAudit is installed by TestMain for the whole phala test binary (the
// internal and the phala_test tests alike): every Client any test builds
// registers its API key and routes its log records and hook payloads here,
// every public method's error and result is recorded, and every env value
// that passes validation is registered as a secret. The texts are scanned
// for every secret at once when recorded and again when the suite ends.
type suiteAudit struct {
	mu      sync.Mutex
	secrets map[string]bool
	texts   int
	leaks   []string
	byKind  map[string]int
}

// minAuditedSecret is the shortest secret scanned for: shorter ones ("k",
// "1") occur in ordinary text by chance. API keys are at least 8 long.
const minAuditedSecret = 8

func (s *suiteAudit) secret(v string) {
	if len(v) < minAuditedSecret || distinctBytes(v) < 4 {
		return
	}
	s.mu.Lock()
	s.secrets[v] = true
	s.mu.Unlock()
}

func (s *suiteAudit) record(kind, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts++
	s.byKind[kind]++
	for v := range s.secrets {
		if i := strings.Index(text, v); i >= 0 {
			s.leaks = append(s.leaks, fmt.Sprintf("%s: ...%s[SECRET %d bytes]...", kind, text[max(0, i-160):i], len(v)))
		}
	}
}

var suiteAuditor = &suiteAudit{secrets: map[string]bool{}, byKind: map[string]int{}}

func TestMain(m *testing.M) {
	testAudit = suiteAuditor
	code := m.Run()
	testAudit = nil
	a := suiteAuditor
	if len(a.leaks) > 0 {
		sort.Strings(a.leaks)
		fmt.Fprintf(os.Stderr, "FAIL: suite audit: %d texts (errors, results, logs, hook payloads) held a test API key or env value:\n", len(a.leaks))
		for _, l := range a.leaks[:min(len(a.leaks), 40)] {
			fmt.Fprintln(os.Stderr, "  "+l)
		}
		code = 1
	} else if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "suite audit: %d texts %v scanned for %d secrets, none found\n", a.texts, a.byKind, len(a.secrets))
	}
	if code == 0 && (a.byKind["log"] == 0 || a.byKind["error"] == 0 || a.byKind["hook"] == 0) && !testing.Short() && a.texts > 0 && len(os.Args) > 0 && !strings.Contains(strings.Join(os.Args, " "), "-test.run") {
		fmt.Fprintf(os.Stderr, "FAIL: suite audit saw no logs, errors or hooks (%v): it is not wired in\n", a.byKind)
		code = 1
	}
	os.Exit(code)
}

// distinctBytes counts the different bytes of v: the fuzz targets' values
// such as "00000000" are too uniform to tell a leak from a coincidence (an
// invalid key "000000000" quoted in its error, say).
func distinctBytes(v string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(v); i++ {
		if !seen[v[i]] {
			seen[v[i]] = true
			n++
		}
	}
	return n
}

// The audit itself can fail: a registered secret in a recorded text is a
// leak (removed again here, so that the suite's verdict is its own).
func TestSuiteAuditCatchesALeak(t *testing.T) {
	a := suiteAuditor
	const s = "phak_audit_selftest_7f3a9c"
	a.secret(s)
	a.mu.Lock()
	before := len(a.leaks)
	a.mu.Unlock()
	a.record("self-test", "an error that echoes "+s)
	a.record("self-test", "a clean text")
	a.mu.Lock()
	caught := len(a.leaks) - before
	a.leaks = a.leaks[:before]
	delete(a.secrets, s)
	a.mu.Unlock()
	if caught != 1 {
		t.Fatalf("the audit caught %d leaks, want 1", caught)
	}
	if testAudit != auditSink(a) {
		t.Fatal("TestMain did not install the audit")
	}
}
