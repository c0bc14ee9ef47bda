package openapi_test

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/phalacloud/go-sdk/openapi"
)

// TestSpecIsValid loads the document with kin-openapi and fails on any
// validation problem, including examples that do not match their schemas.
func TestSpecIsValid(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Spec)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	var ops int
	for _, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops++
			if op.OperationID == "" || op.Summary == "" || op.Description == "" {
				t.Errorf("%s operation %q lacks an operationId, summary or description", method, op.OperationID)
			}
		}
	}
	if ops != 18 { // eleven changes (listing and pre-launch upgrade included), six reads, the multisig commit-update
		t.Errorf("the document has %d operations, want 18", ops)
	}
}
