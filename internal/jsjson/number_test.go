package jsjson

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// formatNumber is appendNumber as a string: Number.prototype.toString of
// a finite x, "null" for NaN and ±Inf.
func formatNumber(x float64) string { return string(appendNumber(nil, x)) }

var jsNumberSyntax = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?(e[+-][1-9][0-9]*)?$`)

func FuzzFormatNumber(f *testing.F) {
	for _, x := range []float64{0, math.Copysign(0, -1), 1, 2.5, 1e21, 1e20, 1e-7, 1e-6, 123456789012345678901, 0.1, 5e-324, math.MaxFloat64, -1.5e-10, 4.35} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		s := formatNumber(x)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			if s != "null" {
				t.Fatalf("%v -> %q", x, s)
			}
			return
		}
		if !jsNumberSyntax.MatchString(s) {
			t.Fatalf("%v -> %q: not in Number#toString form", x, s)
		}
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || back != x {
			t.Fatalf("%v -> %q -> %v (%v)", x, s, back, err)
		}
		// exponent form exactly when the decimal exponent is >= 21 or <= -7
		abs := math.Abs(x)
		if hasExp := strings.Contains(s, "e"); x != 0 && hasExp != (abs >= 1e21 || abs < 1e-6) {
			t.Fatalf("%v -> %q: wrong notation", x, s)
		}
	})
}
