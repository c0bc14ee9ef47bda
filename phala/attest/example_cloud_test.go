package attest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/phalacloud/go-sdk/phala/attest"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// After an update, wait until it is live and verify what runs: a genuine
// TDX CVM at an accepted TCB, running exactly the approved compose hash
// for the caller's app. phalatest answers a recorded production
// attestation (its compose hash and app id, not the update's: no fake can
// sign a TDX quote), verified here with the collateral captured with it.
func ExampleVerifyUpdate() {
	srv := phalatest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	result, err := client.UpdateDockerCompose(ctx, phalatest.CentralCVMName, "services:\n  app:\n    image: nginx:1.27\n", nil)
	if err != nil {
		log.Fatal(err)
	}
	col, err := attest.ParseCollateral(mustRead("dstack-0.5.3-phala-prod7.collateral.json"))
	if err != nil {
		log.Fatal(err)
	}
	out, err := attest.VerifyUpdate(ctx, client, phalatest.CentralCVMName, result, nil, attest.Expected{
		Time:        time.Date(2025, 9, 2, 9, 0, 0, 0, time.UTC), // explicit: the sample's collateral window
		Collateral:  col,
		ComposeHash: mustHex("12a20aed7d6c68601e9f6e108a93b4199ae7231684307ffc4833c9cd08d45de7"),
		AppID:       mustHex(phalatest.SampleAttestationAppID),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.State.Status, out.Report.Quote.Status)
	for _, c := range out.Report.Checks {
		if c.Passed {
			fmt.Println("passed:", c.Check)
		}
	}
	// Output:
	// running UpToDate
	// passed: tcb-status
	// passed: debug
	// passed: event-log
	// passed: rtmr
	// passed: compose-hash
	// passed: app-id
	// passed: mr-config-id
}

// The running CVM's attested app-compose is the baseline an on-chain
// update applies its change to: its bytes hash to the compose-hash event
// of a quote verified to Intel's root, and the hash is one the caller
// allows (here a fixed set; the app contract's allowed hashes fit).
func ExampleAttestedBaseline() {
	srv := phalatest.NewServer()
	defer srv.Close()
	col, err := attest.ParseCollateral(mustRead("dstack-0.5.3-phala-prod7.collateral.json"))
	if err != nil {
		log.Fatal(err)
	}
	allowed := map[[32]byte]bool{[32]byte(mustHex("12a20aed7d6c68601e9f6e108a93b4199ae7231684307ffc4833c9cd08d45de7")): true}
	doc, report, err := attest.AttestedBaseline(context.Background(), srv.Client(), phalatest.CentralCVMName, attest.Expected{
		Time:       time.Date(2025, 9, 2, 9, 0, 0, 0, time.UTC),
		Collateral: col,
		AppID:      mustHex(phalatest.SampleAttestationAppID),
		ComposeHashAllowed: func(_ context.Context, h [32]byte) (bool, error) {
			return allowed[h], nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes, compose hash %x\n", len(doc), report.ComposeHash[:4])
	// Output: 7272 bytes, compose hash 12a20aed
}
