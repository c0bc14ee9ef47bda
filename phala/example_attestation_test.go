package phala_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log"

	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// GetCVMAttestation returns what the API reports, unverified: the quote's
// bytes and the event log are there for a verifier to check against
// Intel's root and to replay. phalatest answers a recorded production
// attestation.
func ExampleClient_GetCVMAttestation() {
	srv := phalatest.NewServer(phalatest.WithCVM(phalatest.CVMSeed{Name: "my-app"}))
	defer srv.Close()
	client := srv.Client()

	a, err := client.GetCVMAttestation(context.Background(), "my-app")
	if err != nil {
		log.Fatal(err)
	}
	quote, err := a.Quote()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("online:", a.IsOnline, "quote bytes:", len(quote))
	for _, e := range a.TCBInfo.EventLog {
		if e.Event == "compose-hash" {
			fmt.Println("compose-hash event:", e.EventPayload)
		}
	}
	// Hash the exact bytes; never a re-serialisation.
	sum := sha256.Sum256([]byte(a.TCBInfo.AppCompose))
	fmt.Println("sha256(app_compose):", hex.EncodeToString(sum[:]))
	// Output:
	// online: true quote bytes: 5006
	// compose-hash event: 12a20aed7d6c68601e9f6e108a93b4199ae7231684307ffc4833c9cd08d45de7
	// sha256(app_compose): 12a20aed7d6c68601e9f6e108a93b4199ae7231684307ffc4833c9cd08d45de7
}
