package phala_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

// A 2xx the spec does not declare for an operation is not a success: it
// used to be accepted by the resources, os-image, compose_file commit
// (200), provision (201, 202) and commit-update (200) methods.
func TestUndeclaredSuccessStatusIsAnError(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		pattern string
		status  int
		call    func(c *phala.Client) error
	}{
		{"PATCH /cvms/{id}/resources", http.StatusOK, func(c *phala.Client) error {
			return auditedErr(c.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(2)}))
		}},
		{"PATCH /cvms/{id}/os-image", http.StatusOK, func(c *phala.Client) error {
			return auditedErr(c.UpdateOSImage(ctx, "my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"}))
		}},
		{"PATCH /cvms/{id}/compose_file", http.StatusOK, func(c *phala.Client) error {
			return auditedErr(c.CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash}))
		}},
		{"POST /cvms/{id}/commit-update", http.StatusOK, func(c *phala.Client) error {
			_, err := audited(c.CommitCVMUpdate(ctx, "my-app", secretToken("token"), testHash, testTx))
			return err
		}},
		{"POST /cvms/{id}/compose_file/provision", http.StatusCreated, func(c *phala.Client) error {
			_, err := audited(c.ProvisionCVMComposeFileUpdate(ctx, "my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: "services: {}\n"}))
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %d", tc.pattern, tc.status), func(t *testing.T) {
			h := newHarness(t, withoutResponseValidation("the status is deliberately not declared by the spec"))
			h.reply("GET /cvms/{id}/compose_file", http.StatusOK, currentAppCompose)
			h.reply(tc.pattern, tc.status, acceptedJSON)
			err := tc.call(h.client())
			var apiErr *phala.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
		})
	}
}
