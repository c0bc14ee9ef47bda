// Command ratios summarises `go test -bench` output of package bench: for
// each BenchmarkRatio and BenchmarkParallelRatio sub-benchmark, the median
// and range (min-max) of its "ratio" metric over the rounds (-count), and
// for each BenchmarkCall method the facade/nethttp ratios of B/op and
// allocs/op (medians). Usage: go run ./bench/ratios bench.out
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ratios bench.out")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	// values[benchmark][unit] = one value per round
	values := map[string]map[string][]float64{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
		}
		if values[name] == nil {
			values[name] = map[string][]float64{}
			order = append(order, name)
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err == nil {
				values[name][fields[i+1]] = append(values[name][fields[i+1]], v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("interleaved on one transport: Ratio = facade ns per call / nethttp ns per call (budget <= 1.10);")
	fmt.Println("ParallelRatio = facade calls/s / nethttp calls/s with 64 goroutines (budget >= 0.90)")
	fmt.Printf("  %-40s %8s %8s %8s %6s\n", "benchmark", "median", "min", "max", "rounds")
	for _, name := range order {
		if !strings.HasPrefix(name, "BenchmarkRatio/") && !strings.HasPrefix(name, "BenchmarkParallelRatio/") {
			continue
		}
		r := values[name]["ratio"]
		if len(r) == 0 {
			continue
		}
		slices.Sort(r)
		fmt.Printf("  %-40s %8.3f %8.3f %8.3f %6d\n", strings.TrimPrefix(name, "Benchmark"), median(r), r[0], r[len(r)-1], len(r))
	}
	fmt.Println("\nfacade / nethttp, BenchmarkCall medians:")
	fmt.Printf("  %-22s %10s %10s %14s %14s\n", "method", "B/op", "allocs/op", "facade allocs", "nethttp allocs")
	for _, name := range order {
		op, ok := strings.CutPrefix(name, "BenchmarkCall/")
		if !ok || !strings.HasSuffix(op, "/facade") {
			continue
		}
		op = strings.TrimSuffix(op, "/facade")
		f, n := values[name], values["BenchmarkCall/"+op+"/nethttp"]
		if n == nil {
			continue
		}
		fa, na := median(f["allocs/op"]), median(n["allocs/op"])
		fmt.Printf("  %-22s %10.3f %10.3f %14.0f %14.0f\n", op, median(f["B/op"])/median(n["B/op"]), fa/na, fa, na)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
