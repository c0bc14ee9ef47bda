package phala_test

import (
	"context"
	"fmt"
	"log"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// WithUpdateResult hands over the correlation id of the methods that
// return only an error, so that WaitForUpdate waits for exactly the change
// the call made.
func ExampleWithUpdateResult() {
	srv := phalatest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	var res phala.UpdateResult
	err := client.UpdateCVMResources(phala.WithUpdateResult(ctx, &res), phalatest.CentralCVMName,
		&phala.UpdateResourcesRequest{VCPU: phala.Int(4), AllowRestart: phala.Bool(true)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.CorrelationID != "")
	state, err := client.WaitForUpdate(ctx, phalatest.CentralCVMName, &res, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(state.Status)
	// Output:
	// in_progress true
	// running
}

// A compose file identical to the running one changes nothing: the result
// says StatusNoChange and WaitForUpdate returns at once.
func ExampleClient_UpdateDockerCompose_noChange() {
	srv := phalatest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	compose := "services:\n  app:\n    image: nginx:1.27\n"
	first, err := client.UpdateDockerCompose(ctx, phalatest.CentralCVMName, compose, nil)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.WaitForUpdate(ctx, phalatest.CentralCVMName, first, nil); err != nil {
		log.Fatal(err)
	}
	again, err := client.UpdateDockerCompose(ctx, phalatest.CentralCVMName, compose, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.Status, again.Status, again.CorrelationID == "")
	// Output: in_progress no_change true
}
