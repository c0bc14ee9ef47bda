package attest

import (
	"context"
	"testing"
)

func BenchmarkVerifyQuote(b *testing.B) {
	q, col := readTestdata(b, nearmpc.quote), loadCollateral(b, nearmpc.collateral)
	for b.Loop() {
		if _, err := VerifyQuote(q, col, nearmpc.at, StrictPolicy); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	ev, exp := nearmpc.evidence(b), nearmpc.expected(b)
	for b.Loop() {
		if _, err := Verify(context.Background(), ev, exp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReplayEventLog(b *testing.B) {
	ev := nearmpc.evidence(b)
	for b.Loop() {
		if _, err := ReplayEventLog(ev.EventLog); err != nil {
			b.Fatal(err)
		}
	}
}
