package phala_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

func TestMissingAPIKey(t *testing.T) {
	t.Setenv(phala.EnvAPIKey, "")
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}/docker-compose", http.StatusAccepted, acceptedJSON)
	c, err := auditedClient(phala.NewClient(phala.WithBaseURL(h.baseURL()), phala.WithHTTPClient(h.httpClient())))
	require.NoError(t, err, "a missing key is reported by the first call, not by NewClient")
	ctx := context.Background()

	calls := map[string]func() error{
		"UpdateDockerCompose": func() error { _, err := audited(c.UpdateDockerCompose(ctx, "my-app", testCompose, nil)); return err },
		"UpdateCVMResources": func() error {
			return auditedErr(c.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(1)}))
		},
		"GetCVMInfo": func() error { _, err := audited(c.GetCVMInfo(ctx, "my-app")); return err },
		"UpdateCVMVisibility": func() error {
			_, err := audited(c.UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{PublicLogs: phala.Bool(true)}))
			return err
		},
		"ProvisionCVMComposeFileUpdate": func() error {
			_, err := audited(c.ProvisionCVMComposeFileUpdate(ctx, "my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: testCompose}))
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			require.ErrorIs(t, err, phala.ErrMissingAPIKey)
			assert.NotErrorIs(t, err, phala.ErrInvalidArgument)
		})
	}
	assert.Equal(t, 0, h.count(), "nothing may be sent without a key")
}

func TestAPIKeyFromEnvironment(t *testing.T) {
	t.Setenv(phala.EnvAPIKey, "  env-key-123  ")
	h := newHarness(t)
	h.reply("GET /cvms/{id}", http.StatusOK, `{"id":"cvm_1","name":"my-app","status":"running"}`)
	c, err := auditedClient(phala.NewClient(phala.WithBaseURL(h.baseURL()), phala.WithHTTPClient(h.httpClient())))
	require.NoError(t, err)
	_, err = audited(c.GetCVMInfo(context.Background(), "my-app"))
	require.NoError(t, err)
	assert.Equal(t, "env-key-123", h.only().Header.Get("X-API-Key"), "the environment's key is trimmed")

	// An explicit key wins over the environment.
	h2 := newHarness(t)
	h2.reply("GET /cvms/{id}", http.StatusOK, `{"id":"cvm_1","name":"my-app","status":"running"}`)
	_, err = audited(h2.client().GetCVMInfo(context.Background(), "my-app"))
	require.NoError(t, err)
	assert.Equal(t, testAPIKey, h2.only().Header.Get("X-API-Key"))
}
