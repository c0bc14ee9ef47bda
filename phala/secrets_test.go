package phala

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretsNeverLeak runs every method through success, error, echoing,
// retry and transport-failure scenarios with a debug logger, and greps all
// errors, logs and printed values for the API key and the env values.
func TestSecretsNeverLeak(t *testing.T) {
	const key = "phak_TopSecretKey_0123456789"
	const envValue = "hunter2-env-value"
	// The server echoes every request header and body into its answers,
	// the worst case for a leak, and rotates through error shapes.
	statuses := []int{401, 403, 404, 409, 422, 429, 465, 466, 500, 503, 302}
	i := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		st := statuses[i%len(statuses)]
		i++
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-ID", r.Header.Get("X-API-Key"))
		if st == 302 {
			w.Header().Set("Location", "https://elsewhere.example/steal?key="+r.Header.Get("X-API-Key"))
		}
		w.WriteHeader(st)
		fmt.Fprintf(w, `{"message":"echo %s","detail":%q}`, r.Header.Get("X-API-Key"), string(body))
	}))
	defer srv.Close()

	var logs bytes.Buffer
	c, err := auditedClient(NewClient(WithAPIKey(key), WithBaseURL(srv.URL+"/api/v1"), WithTimeout(2*time.Second),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MaxTotalWait: time.Second}),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))))
	require.NoError(t, err)
	ctx := context.Background()
	envs := []EnvVar{{Key: "PASSWORD", Value: envValue}}
	var outputs []string
	record := func(v any, err error) {
		outputs = append(outputs, fmt.Sprintf("%v %+v %#v", v, v, v))
		if err != nil {
			outputs = append(outputs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
	}
	for round := 0; round < len(statuses); round++ {
		record(audited(c.UpdateDockerCompose(ctx, "my-app", "services: {}\n", nil)))
		record(audited(c.UpdatePreLaunchScript(ctx, "my-app", "echo hi", nil)))
		record(nil, auditedErr(c.UpdateCVMResources(ctx, "my-app", &UpdateResourcesRequest{VCPU: Int(2)})))
		record(audited(c.UpdateCVMVisibility(ctx, "my-app", &UpdateVisibilityRequest{PublicLogs: Bool(true), PublicSysinfo: Bool(true)})))
		record(audited(c.UpdateCVMEnvs(ctx, "my-app", &UpdateEnvsRequest{EncryptedEnv: strings.Repeat("ab", MinEncryptedEnvBytes)})))
		record(nil, auditedErr(c.UpdateOSImage(ctx, "my-app", &UpdateOSImageRequest{OSImageName: "dstack-0.5.4"})))
		record(audited(c.PatchCVM(ctx, "my-app", &PatchCVMRequest{VCPU: Int(2)})))
		record(audited(c.ConfirmCVMPatch(ctx, "my-app", &ConfirmCVMPatchRequest{ComposeHash: strings.Repeat("a", 64), TransactionHash: "0x" + strings.Repeat("b", 64)})))
		record(audited(c.ProvisionCVMComposeFileUpdate(ctx, "my-app", &ProvisionComposeUpdateRequest{DockerComposeFile: "x: y"})))
		record(nil, auditedErr(c.CommitCVMComposeFileUpdate(ctx, "my-app", &CommitComposeUpdateRequest{ComposeHash: strings.Repeat("a", 64)})))
		record(audited(c.GetCVMInfo(ctx, "my-app")))
		record(audited(c.EncryptAndUpdateEnvs(ctx, "my-app", secretEnvs(envs), nil)))
	}
	// Bad input and transport failures.
	record(audited(c.EncryptAndUpdateEnvs(ctx, "my-app", secretEnvs([]EnvVar{{Key: "1BAD", Value: envValue}}), nil)))
	record(audited(EncryptEnvVars(secretEnvs(envs), "zz")))
	dead, err := auditedClient(NewClient(WithAPIKey(key), WithBaseURL("http://127.0.0.1:1/api/v1"), WithoutRetries()))
	require.NoError(t, err)
	record(audited(dead.GetCVMInfo(ctx, "my-app")))
	record(c, nil)
	record(envs, nil)
	outputs = append(outputs, logs.String())

	require.NotEmpty(t, logs.String(), "the logger saw the requests")
	all := strings.Join(outputs, "\n")
	for _, secret := range []string{key, envValue} {
		if i := strings.Index(all, secret); i >= 0 {
			t.Errorf("a secret leaked: ...%s...", all[max(0, i-200):i])
		}
	}
	assert.Contains(t, all, redacted, "the echoed key was replaced, not silently dropped")
}
