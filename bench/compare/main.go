// Command compare runs this SDK side by side with the official TypeScript
// SDK (@phala/cloud 0.2.9, pinned by internal/nodejs) and prints what each
// achieves and the ratio ours/theirs. Run it from the repository root with
// `make bench-compare` (or `go run ./bench/compare`); it needs node and npm
// in PATH and fails when they are missing.
//
// It builds cmd/phala-fake into a temporary folder, starts ONE instance
// with -update-delay 0 and, against that instance and the same CVM:
//
//   - times -calls updateDockerCompose calls through the JavaScript SDK and
//     -calls UpdateDockerCompose calls through phala.Client, one at a time
//     and with -inflight outstanding (-rounds rounds each; the median
//     counts);
//   - repeats the concurrent run of both SDKs through a small TCP proxy that
//     counts the connections the fake accepts, to show keep-alive at work;
//   - times the JavaScript encryptEnvVars (1, 100, 1024 vars) and
//     getComposeHash (typical and 200 KiB app-compose) against
//     phala.EncryptEnvVars and phala.ComposeHash on the same inputs, checks
//     that the hashes are equal and that both ciphertexts decrypt to the
//     same variables.
//
// Nothing here is a test: the figures depend on the machine. See
// BENCHMARKS.md for what they mean.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	_ "embed"

	"github.com/phalacloud/go-sdk/internal/nodejs"
	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

//go:embed http.cjs
var httpScript string

//go:embed crypto.cjs
var cryptoScript string

// compose is what every updateDockerCompose call sends.
const compose = "services:\n  web:\n    image: nginx:1.27\n    ports:\n      - \"80:80\"\n    environment:\n      - FOO=${FOO}\n"

type options struct {
	calls, inflight, rounds int
	cryptoScale             float64
}

func main() {
	var o options
	flag.IntVar(&o.calls, "calls", 2000, "updateDockerCompose calls per round and SDK")
	flag.IntVar(&o.inflight, "inflight", 16, "calls outstanding in the concurrent runs")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of each measurement; the median is reported")
	flag.Float64Var(&o.cryptoScale, "crypto-scale", 1, "multiplier of the crypto iteration counts")
	flag.Parse()
	if o.calls < 1 || o.inflight < 1 || o.rounds < 1 || o.cryptoScale <= 0 {
		fmt.Fprintln(os.Stderr, "compare: -calls, -inflight, -rounds and -crypto-scale must be positive")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// row is one line of the final table.
type row struct {
	what         string
	unit         string
	theirs, ours float64 // per second, higher is better
	target       float64 // minimum ours/theirs
	note         string
}

func run(o options) error {
	ctx := context.Background()
	node, err := exec.LookPath("node")
	if err != nil {
		return errors.New("node is not in PATH: install Node.js >= 18 and npm to compare with the TypeScript SDK")
	}
	logf("installing (or reusing) the pinned npm packages")
	dir, err := nodejs.InstallDir(ctx)
	if err != nil {
		return err
	}
	fake, err := startFake(ctx)
	if err != nil {
		return err
	}
	defer fake.stop()
	logf("phala-fake at %s", fake.prefix)

	var rows []row

	// ---- updateDockerCompose, direct ----
	httpIn := map[string]any{"prefix": fake.prefix, "api_key": fake.apiKey, "cvm": phalatest.CentralCVMName,
		"compose": compose, "calls": o.calls, "warmup": warmupCalls(o.calls), "concurrency": []int{1, o.inflight}, "rounds": o.rounds}
	logf("TypeScript SDK: %d updateDockerCompose calls x %d rounds, sequential and %d in flight", o.calls, o.rounds, o.inflight)
	js, err := runHTTPJS(node, dir, httpIn)
	if err != nil {
		return err
	}
	logf("Go SDK: %d UpdateDockerCompose calls x %d rounds, sequential and %d in flight", o.calls, o.rounds, o.inflight)
	goSecs, err := runHTTPGo(ctx, fake.prefix, fake.apiKey, o.calls, warmupCalls(o.calls), []int{1, o.inflight}, o.rounds)
	if err != nil {
		return err
	}
	for _, c := range []int{1, o.inflight} {
		what := "updateDockerCompose, sequential"
		if c > 1 {
			what = fmt.Sprintf("updateDockerCompose, %d in flight", c)
		}
		rows = append(rows, row{what: what, unit: "calls/s", theirs: float64(o.calls) / median(js[strconv.Itoa(c)]),
			ours: float64(o.calls) / median(goSecs[c]), target: 3})
	}

	// ---- connections, through the counting proxy ----
	px, err := newProxy(fake.addr)
	if err != nil {
		return err
	}
	defer px.close()
	proxied := strings.Replace(fake.prefix, fake.addr, px.addr(), 1)
	logf("connections: %d calls, %d in flight, each SDK through a counting proxy", o.calls, o.inflight)
	before := px.accepted.Load()
	connIn := map[string]any{"prefix": proxied, "api_key": fake.apiKey, "cvm": phalatest.CentralCVMName,
		"compose": compose, "calls": o.calls, "warmup": 0, "concurrency": []int{o.inflight}, "rounds": 1}
	if _, err := runHTTPJS(node, dir, connIn); err != nil {
		return err
	}
	jsConns := px.accepted.Load() - before
	before = px.accepted.Load()
	if _, err := runHTTPGo(ctx, proxied, fake.apiKey, o.calls, 0, []int{o.inflight}, 1); err != nil {
		return err
	}
	goConns := px.accepted.Load() - before

	// ---- encryption and hashing ----
	cr, err := runCrypto(node, dir, o)
	if err != nil {
		return err
	}
	rows = append(rows, cr...)

	printTable(os.Stdout, o, rows, jsConns, goConns)
	return nil
}

func warmupCalls(calls int) int { return max(10, calls/10) }

// runHTTPJS runs http.cjs and returns its seconds per concurrency.
func runHTTPJS(node, dir string, in map[string]any) (map[string][]float64, error) {
	out, err := runNode(node, dir, httpScript, in)
	if err != nil {
		return nil, err
	}
	var res struct {
		Seconds map[string][]float64 `json:"seconds"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("http.cjs answered %q: %w", out, err)
	}
	return res.Seconds, nil
}

// runHTTPGo is http.cjs in Go: a phala.Client with its defaults (no
// WithHTTPClient), as an application would build it.
func runHTTPGo(ctx context.Context, prefix, apiKey string, calls, warmup int, concurrency []int, rounds int) (map[int][]float64, error) {
	c, err := phala.NewClient(phala.WithAPIKey(apiKey), phala.WithBaseURL(prefix))
	if err != nil {
		return nil, err
	}
	// Every call sends a compose of its own, as http.cjs does: the fake
	// answers an unchanged compose with no_change, which is no update.
	var seq atomic.Int64
	one := func() error {
		r, err := c.UpdateDockerCompose(ctx, phalatest.CentralCVMName, compose+"# call "+strconv.FormatInt(seq.Add(1), 10)+"\n", nil)
		if err != nil {
			return err
		}
		if r.Status != phala.StatusInProgress {
			return fmt.Errorf("unexpected answer %+v", r)
		}
		return nil
	}
	batch := func(n, inflight int) error {
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, inflight)
		for range inflight {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					if err := one(); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	out := map[int][]float64{}
	for _, inflight := range concurrency {
		if err := batch(warmup, inflight); err != nil {
			return nil, err
		}
		for range rounds {
			t0 := time.Now()
			if err := batch(calls, inflight); err != nil {
				return nil, err
			}
			out[inflight] = append(out[inflight], time.Since(t0).Seconds())
		}
	}
	return out, nil
}

// runNode runs script with node in dir (where the packages are installed),
// feeding it in as JSON, and returns its standard output.
func runNode(node, dir, script string, in any) ([]byte, error) {
	f, err := os.CreateTemp(dir, "compare-*.cjs")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(script); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Base(f.Name()))
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(string(stdin))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("node script failed: %v\n%s", err, stderr.String())
	}
	return out, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
}

func printTable(w *os.File, o options, rows []row, jsConns, goConns int64) {
	fmt.Fprintf(w, "\nGo SDK (phala) vs TypeScript SDK (@phala/cloud 0.2.9), one phala-fake on loopback; median of %d rounds\n\n", o.rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "what\tunit\tTypeScript\tGo\tours/theirs\ttarget\t\t")
	for _, r := range rows {
		ratio := r.ours / r.theirs
		ok := "met"
		if ratio < r.target {
			ok = "MISSED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2fx\t>= %gx\t%s\t  %s\n", r.what, r.unit, fmtRate(r.theirs), fmtRate(r.ours), ratio, r.target, ok, r.note)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nnew TCP connections accepted by the fake during %d calls with %d in flight: TypeScript %d, Go %d\n", o.calls, o.inflight, jsConns, goConns)
	if goConns > int64(o.inflight) {
		fmt.Fprintf(w, "  (Go: more than %d: connections beyond the idle pool of the default transport, 2 per host, were closed and reopened;\n   WithHTTPClient with a larger MaxIdleConnsPerHost avoids that)\n", o.inflight)
	}
}

func fmtRate(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// seed derives deterministic bytes for the inputs.
func seed(label string) [32]byte { return sha256.Sum256([]byte("phala-go-sdk bench/compare " + label)) }
