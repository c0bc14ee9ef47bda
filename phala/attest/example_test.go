package attest_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/phalacloud/go-sdk/phala/attest"
)

func mustRead(name string) []byte {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		panic(err)
	}
	return b
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Verify a recorded dstack CVM attestation (a NEAR MPC node on dstack OS
// 0.5.8) against the compose hash and app id its owner approved, with the
// Intel collateral captured with it, at an explicit time.
func ExampleVerify() {
	ev, err := attest.ParseEvidence(mustRead("dstack-0.5.8-nearmpc.quote.bin"), mustRead("dstack-0.5.8-nearmpc.tcb_info.json"))
	if err != nil {
		panic(err)
	}
	col, err := attest.ParseCollateral(mustRead("dstack-0.5.8-nearmpc.collateral.json"))
	if err != nil {
		panic(err)
	}
	report, err := attest.Verify(context.Background(), ev, attest.Expected{
		Time:       time.Date(2026, 8, 13, 12, 0, 0, 0, time.UTC),
		Collateral: col,
		Policy:     attest.Policy{Accept: []attest.TCBStatus{attest.StatusUpToDate, attest.StatusSWHardeningNeeded}},
		AppCompose: mustRead("dstack-0.5.8-nearmpc.app_compose.json"), // the exact bytes approved
		AppID:      mustHex("2911e1f733466216dedb862d6d669e11256ee7a3"),
		KMS:        &attest.KeyProvider{Name: "local-sgx", ID: "6b5ed02e549a1c30aaa8e3171a045f1f449b0017353ef595e78e39c348c98d01"},
	})
	if err != nil {
		fmt.Println("rejected:", attest.CheckOf(err))
		return
	}
	fmt.Println("TCB status:", report.Quote.Status)
	fmt.Printf("compose hash: %x\n", report.ComposeHash)
	for _, c := range report.Checks {
		fmt.Println(c.Check, c.Passed)
	}
	// Output:
	// TCB status: UpToDate
	// compose hash: 2911e1f733466216dedb862d6d669e11256ee7a34ce4dbc66c4b807ba7a9c895
	// tcb-status true
	// debug true
	// event-log true
	// rtmr true
	// compose-hash true
	// app-id true
	// key-provider true
	// mr-config-id true
	// report-data false
	// os-image false
}

// A wrong compose hash fails with an error naming the check.
func ExampleVerify_wrongComposeHash() {
	ev, _ := attest.ParseEvidence(mustRead("dstack-0.5.8-nearmpc.quote.bin"), mustRead("dstack-0.5.8-nearmpc.tcb_info.json"))
	col, _ := attest.ParseCollateral(mustRead("dstack-0.5.8-nearmpc.collateral.json"))
	_, err := attest.Verify(context.Background(), ev, attest.Expected{
		Time:        time.Date(2026, 8, 13, 12, 0, 0, 0, time.UTC),
		Collateral:  col,
		ComposeHash: make([]byte, 32),
		AppID:       mustHex("2911e1f733466216dedb862d6d669e11256ee7a3"),
	})
	fmt.Println(errors.Is(err, attest.ErrComposeHash), attest.CheckOf(err))
	// Output: true compose-hash
}

// Verify a quote alone with its collateral: the collateral of the
// production sample expired on 2025-10-02, so a later time fails.
func ExampleVerifyQuote() {
	quote := mustRead("dstack-0.5.3-phala-prod7.quote-alice.bin")
	col, _ := attest.ParseCollateral(mustRead("dstack-0.5.3-phala-prod7.collateral.json"))
	res, err := attest.VerifyQuote(quote, col, time.Date(2025, 9, 2, 9, 0, 0, 0, time.UTC), attest.StrictPolicy)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, res.FMSPC, res.CollateralExpiry.Format(time.RFC3339))
	_, err = attest.VerifyQuote(quote, col, time.Date(2025, 10, 3, 0, 0, 0, 0, time.UTC), attest.StrictPolicy)
	fmt.Println(errors.Is(err, attest.ErrExpired))
	// Output:
	// UpToDate 20a06f000000 2025-10-02T07:03:51Z
	// true
}

// Replay an event log: runtime event digests are recomputed from name and
// payload, and the result must equal the quote's RTMRs.
func ExampleReplayEventLog() {
	ev, _ := attest.ParseEvidence(mustRead("dstack-0.5.3-phala-prod7.quote-alice.bin"), mustRead("dstack-0.5.3-phala-prod7.tcb_info.json"))
	r, err := attest.ReplayEventLog(ev.EventLog)
	if err != nil {
		panic(err)
	}
	q, _ := attest.ParseQuote(ev.Quote)
	fmt.Println(r.RTMR == q.Report.RTMR)
	hash, _ := r.Lookup("compose-hash")
	fmt.Printf("%x\n", hash)
	// Output:
	// true
	// 12a20aed7d6c68601e9f6e108a93b4199ae7231684307ffc4833c9cd08d45de7
}

// Build mr_config_id in its three forms (vectors of the official SDKs).
func ExampleMRConfigIDV3() {
	rep := func(b byte, n int) []byte {
		out := make([]byte, n)
		for i := range out {
			out[i] = b
		}
		return out
	}
	c := attest.MRConfig{AppID: rep(0x11, 20), ComposeHash: [32]byte(rep(0x22, 32)), KeyProvider: attest.KeyProviderKMS,
		KeyProviderID: rep(0x33, 32), InstanceID: rep(0x44, 20)}
	id, err := attest.MRConfigIDV3(c)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", id[:33])
	fmt.Println(attest.VerifyMRConfigID(id, c) == nil)
	v1 := attest.MRConfigIDV1(c.ComposeHash)
	fmt.Printf("%x\n", v1[:3])
	// Output:
	// 0350fc88d0a462b6a0b06ba25859abc02e98c2a8d9bd000b7dc0d8bae65e71ecbb
	// true
	// 012222
}

// Fetch collateral from a PCCS (or Intel's PCS) instead of passing it:
// the answers are verified like offline collateral and cached until their
// nextUpdate.
func ExamplePCS() {
	pcs := &attest.PCS{BaseURL: "https://pccs.example:8081"}
	_ = attest.Expected{Time: time.Now(), Source: pcs} // plus the caller's compose hash and app id
}

// Report data binds a quote to what the caller asked for.
func ExampleReportDataForAppKey() {
	nonce, _ := attest.ReportDataRaw([]byte("caller nonce"))
	fmt.Printf("%x\n", nonce[:12])
	rd := attest.ReportDataForAppKey([]byte("SubjectPublicKeyInfo DER"))
	fmt.Println(len(rd))
	// Output:
	// 63616c6c6572206e6f6e6365
	// 64
}

// Without collateral (an archived attestation), only the signatures and
// the PCK chain can be checked; the result has no TCB status.
func ExampleVerifyQuoteSignature() {
	res, err := attest.VerifyQuoteSignature(mustRead("dstack-2025-01-example.quote.bin"), time.Date(2025, 1, 23, 0, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Printf("FMSPC %s, status %q\n", res.FMSPC, res.Status)
	// Output: FMSPC b0c06f000000, status ""
}
