package attest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/phalacloud/go-sdk/attest"
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
