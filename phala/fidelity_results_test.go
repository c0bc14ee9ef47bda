package phala_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

// Issue 13, items 1, 2, 3, 7 and 10: update answers as the real API and the
// official SDKs have them.

// precondDetailsOnly is a 465 of PATCH /cvms/{id} with X-Prepare-Only in
// the real shape: every value, the multisig ones included, is a details
// entry (@phala/cloud 0.2.9 dist/index.js, patchCvm: extractDetailsMap).
const precondDetailsOnly = precondDetails + `,
		{"field": "commit_token", "value": "ct_details"},
		{"field": "commit_url", "value": "https://cloud.phala.com/commit/ct_details"},
		{"field": "api_commit_url", "value": "https://cloud-api.phala.com/api/v1/cvms/my-app/commit-update?token=ct_details"},
		{"field": "onchain_status", "value": {"compose_hash_allowed": false, "device_id_allowed": true, "is_allowed": false}}
	]
}`

// Item 1: the commit token and the other multisig values come from details.
func TestPatchCVMReadsCommitTokenFromDetails(t *testing.T) {
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}", 465, precondDetailsOnly)
	resp, err := audited(h.client().PatchCVM(context.Background(), "my-app", &phala.PatchCVMRequest{
		DockerComposeFile: phala.String(testCompose), PrepareOnly: true}))
	require.NoError(t, err)
	assert.Equal(t, &phala.PatchCVMResponse{RequiresOnChainHash: true,
		Message:     "Compose hash must be registered on-chain before this update",
		ComposeHash: testHash, AppID: testAppID, DeviceID: testDeviceID, KMSInfo: wantKMSInfo(),
		CommitToken: "ct_details", CommitURL: "https://cloud.phala.com/commit/ct_details",
		APICommitURL:  "https://cloud-api.phala.com/api/v1/cvms/my-app/commit-update?token=ct_details",
		OnChainStatus: &phala.OnChainStatus{DeviceIDAllowed: true}, RequestID: "req_body"}, resp)
}

// Item 1: details win over the legacy top-level fields and over a wrapped
// detail object, which are only fallbacks.
func TestPreconditionDetailsBeforeFallbacks(t *testing.T) {
	other := strings.Repeat("e", 64)
	body := `{"message": "m", "compose_hash": "` + other + `", "commit_token": "ct_top", "app_id": "` + testAppID + `",
		"details": [{"field": "compose_hash", "value": "` + testHash + `"}, {"field": "commit_token", "value": "ct_details"}],
		"detail": {"compose_hash": "` + other + `", "device_id": "dev_wrapped", "commit_url": "https://wrapped.example"}}`
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}", 465, body)
	resp, err := audited(h.client().PatchCVM(context.Background(), "my-app", &phala.PatchCVMRequest{VCPU: phala.Int(2)}))
	require.NoError(t, err)
	assert.Equal(t, testHash, resp.ComposeHash, "details first")
	assert.Equal(t, "ct_details", resp.CommitToken, "details first")
	assert.Equal(t, testAppID, resp.AppID, "top level as a fallback")
	assert.Equal(t, "dev_wrapped", resp.DeviceID, "wrapped detail as the last fallback")
	assert.Equal(t, "https://wrapped.example", resp.CommitURL)

	// The wrapped form's own details list also comes before flat fields.
	h2 := newHarness(t)
	h2.reply("PATCH /cvms/{id}/docker-compose", 465,
		`{"detail": {"compose_hash": "`+other+`", "details": [{"field": "compose_hash", "value": "`+testHash+`"}, {"field": "app_id", "value": "`+testAppID+`"}]}}`)
	res, err := audited(h2.client().UpdateDockerCompose(context.Background(), "my-app", testCompose, nil))
	require.NoError(t, err)
	assert.Equal(t, testHash, res.ComposeHash)
	assert.Equal(t, testAppID, res.AppID)
}

const noChangeJSON = `{"status":"no_change","message":"Docker Compose file is unchanged"}`

// Item 2: a 200 {"status": "no_change"} is StatusNoChange, not an update in
// progress (official Go SDK types_common.go, UpdateStatusNoChange).
func TestNoChangeAnswers(t *testing.T) {
	for _, m := range updateCalls {
		t.Run(m.name, func(t *testing.T) {
			h := newHarness(t)
			h.reply(m.pattern, http.StatusOK, noChangeJSON, "X-Request-ID", "req_nc")
			res, err := m.call(h.client())
			require.NoError(t, err)
			assert.Equal(t, &phala.UpdateResult{Status: phala.StatusNoChange, Message: "Docker Compose file is unchanged",
				RequestID: "req_nc"}, res)
		})
	}
	t.Run("PatchCVM", func(t *testing.T) {
		h := newHarness(t)
		h.reply("PATCH /cvms/{id}", http.StatusOK, noChangeJSON)
		resp, err := audited(h.client().PatchCVM(context.Background(), "my-app", &phala.PatchCVMRequest{DockerComposeFile: phala.String(testCompose)}))
		require.NoError(t, err)
		assert.Equal(t, phala.StatusNoChange, resp.Status)
		assert.False(t, resp.RequiresOnChainHash)
		assert.Empty(t, resp.CorrelationID)
	})
}

// Item 2: WaitForUpdate on a no_change result returns at once: one read of
// the state, no stream, no wait for a status.
func TestWaitForUpdateNoChangeReturnsAtOnce(t *testing.T) {
	h := newHarness(t)
	h.reply("GET /cvms/{id}/state", http.StatusOK, `{"id":"cvm_1","name":"my-app","status":"stopped"}`)
	for _, res := range []phala.Waitable{
		&phala.UpdateResult{Status: phala.StatusNoChange},
		&phala.PatchCVMResponse{Status: phala.StatusNoChange},
	} {
		st, err := audited(h.client().WaitForUpdate(context.Background(), "my-app", res, nil))
		require.NoError(t, err)
		assert.Equal(t, "stopped", st.Status, "the current state, although it is not the target")
	}
	reqs := h.requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		assert.Equal(t, "/api/v1/cvms/my-app/state", r.EscapedPath)
		assert.Empty(t, r.RawQuery, "a plain read, not a stream")
	}
}

// Item 3: every provision field the official SDKs expose has a home.
func TestProvisionExposesEveryOfficialField(t *testing.T) {
	h := newHarness(t)
	h.reply("GET /cvms/{id}/compose_file", http.StatusOK, currentAppCompose)
	h.reply("POST /cvms/{id}/compose_file/provision", http.StatusOK, `{"app_id":"`+testAppID+`","device_id":"`+testDeviceID+`",
		"compose_hash":"`+testHash+`","kms_info":null,"compose_hash_registered":true,"compose_unchanged":true,
		"app_env_encrypt_pubkey":"e33a1832","fmspc":"B0C06F000000","os_image_hash":"0a1b","instance_type":"tdx.medium",
		"node_id":12,"kms_id":"kms_1"}`)
	p, err := audited(h.client().ProvisionCVMComposeFileUpdate(context.Background(), "my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: testCompose}))
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{64}$`, p.SentComposeHash, "the SDK's hash of what it sent")
	assert.False(t, p.ComposeHashMatchesSent, "testHash is no document's hash")
	assert.Equal(t, &phala.ProvisionCVMResponse{ComposeHash: testHash, SentComposeHash: p.SentComposeHash, AppID: testAppID, DeviceID: testDeviceID,
		ComposeHashRegistered: true, ComposeUnchanged: true, AppEnvEncryptPublicKey: "e33a1832", FMSPC: "B0C06F000000",
		OSImageHash: "0a1b", InstanceType: "tdx.medium", NodeID: 12, KMSID: "kms_1"}, p)

	// Absent fields are false / zero (the Python SDK's defaults).
	h2 := newHarness(t)
	h2.reply("GET /cvms/{id}/compose_file", http.StatusOK, currentAppCompose)
	h2.reply("POST /cvms/{id}/compose_file/provision", http.StatusOK, `{"app_id":"`+testAppID+`","compose_hash":"`+testHash+`"}`)
	p, err = audited(h2.client().ProvisionCVMComposeFileUpdate(context.Background(), "my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: testCompose}))
	require.NoError(t, err)
	assert.False(t, p.ComposeUnchanged)
	assert.False(t, p.ComposeHashRegistered)
}

// Item 7: a success status whose body is not an API answer is an
// ErrUnexpectedResponse error saying what arrived, never a success.
func TestUnexpectedSuccessAnswers(t *testing.T) {
	const page = `<html><head><title>Sign in to the hotel Wi-Fi</title></head><body>Accept the terms</body></html>`
	cases := []struct {
		name, contentType, body, reason string
	}{
		{"captive portal page", "text/html; charset=utf-8", page, "not a JSON object"},
		{"malformed JSON", "application/json", `{"status":"in_progress","correlation_id":`, "malformed JSON"},
		{"JSON of another type", "application/json", `["in_progress"]`, "not a JSON object"},
		{"no correlation id", "application/json", `{"status":"in_progress","message":"started"}`, "without a correlation_id"},
		{"unknown status", "application/json", `{"status":"queued","correlation_id":"c1"}`, "unknown status"},
	}
	for _, tc := range cases {
		for _, m := range updateCalls {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				h := newHarness(t, withoutResponseValidation("the answer breaks the spec on purpose"))
				h.handle(m.pattern, replyFunc(http.StatusOK, tc.contentType, tc.body, "X-Request-ID", "req_x"))
				res, err := m.call(h.client())
				require.Nil(t, res)
				require.ErrorIs(t, err, phala.ErrUnexpectedResponse)
				var ue *phala.UnexpectedResponseError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, http.StatusOK, ue.StatusCode)
				assert.Equal(t, tc.contentType, ue.ContentType)
				assert.Contains(t, ue.Reason, tc.reason)
				assert.Equal(t, "req_x", ue.RequestID)
				assert.Equal(t, len(tc.body), ue.BodySize)
				assert.Contains(t, err.Error(), "HTTP 200")
				assert.Contains(t, err.Error(), tc.contentType)
				assert.Nil(t, ue.APIError)
				assert.False(t, errors.Is(err, phala.ErrServer))
			})
		}
	}
	t.Run("the snippet is bounded", func(t *testing.T) {
		h := newHarness(t, withoutResponseValidation("an HTML page on purpose"))
		h.handle("PATCH /cvms/{id}/docker-compose", replyFunc(http.StatusOK, "text/html", "<p>"+strings.Repeat("x", 5000)+"</p>"))
		_, err := audited(h.client().UpdateDockerCompose(context.Background(), "my-app", testCompose, nil))
		var ue *phala.UnexpectedResponseError
		require.ErrorAs(t, err, &ue)
		assert.LessOrEqual(t, len([]rune(ue.Snippet)), 201)
		assert.True(t, strings.HasPrefix(ue.Snippet, "<p>xxx"))
	})
	t.Run("ConfirmCVMPatch and the error-only methods", func(t *testing.T) {
		h := newHarness(t, withoutResponseValidation("an HTML page on purpose"))
		for _, p := range []string{"PATCH /cvms/{id}", "PATCH /cvms/{id}/resources", "PATCH /cvms/{id}/os-image", "PATCH /cvms/{id}/compose_file"} {
			h.handle(p, replyFunc(http.StatusAccepted, "text/html", page))
		}
		c := h.client()
		ctx := context.Background()
		_, err := audited(c.ConfirmCVMPatch(ctx, "my-app", &phala.ConfirmCVMPatchRequest{ComposeHash: testHash, TransactionHash: testTx}))
		assert.ErrorIs(t, err, phala.ErrUnexpectedResponse)
		_, err = audited(c.PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{VCPU: phala.Int(2)}))
		assert.ErrorIs(t, err, phala.ErrUnexpectedResponse)
		assert.ErrorIs(t, auditedErr(c.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(2)})), phala.ErrUnexpectedResponse)
		assert.ErrorIs(t, auditedErr(c.UpdateOSImage(ctx, "my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"})), phala.ErrUnexpectedResponse)
		assert.ErrorIs(t, auditedErr(c.CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash})), phala.ErrUnexpectedResponse)
	})
	t.Run("a read", func(t *testing.T) {
		h := newHarness(t, withoutResponseValidation("an HTML page on purpose"))
		h.handle("GET /cvms/{id}/state", replyFunc(http.StatusOK, "text/html", page))
		_, err := audited(h.client().GetCVMState(context.Background(), "my-app"))
		assert.ErrorIs(t, err, phala.ErrUnexpectedResponse)
	})
}

// Item 7: the excerpt never carries the API key, even when a proxy's page
// echoes the request headers.
func TestUnexpectedAnswerScrubsTheAPIKey(t *testing.T) {
	h := newHarness(t, withoutResponseValidation("an HTML page on purpose"))
	h.handle("PATCH /cvms/{id}/docker-compose", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<pre>X-API-Key: " + r.Header.Get("X-API-Key") + "</pre>"))
	})
	_, err := audited(h.client().UpdateDockerCompose(context.Background(), "my-app", testCompose, nil))
	var ue *phala.UnexpectedResponseError
	require.ErrorAs(t, err, &ue)
	assert.NotContains(t, err.Error(), testAPIKey)
	assert.NotContains(t, ue.Snippet, testAPIKey)
	assert.Contains(t, ue.Snippet, "[REDACTED]")
}

// Item 7: a 465 whose compose hash is not 64 hex characters cannot be
// registered: an ErrUnexpectedResponse error (still matching the 465
// sentinel), never a result asking to register it.
func TestPreconditionWithMalformedComposeHash(t *testing.T) {
	for _, hash := range []string{"abc", strings.Repeat("z", 64), testHash + "00", "0x" + testHash[:10]} {
		body := `{"error_code":"ERR-01-005","message":"register","details":[{"field":"compose_hash","value":"` + hash +
			`"},{"field":"app_id","value":"` + testAppID + `"}]}`
		for _, m := range updateCalls {
			t.Run(m.name+"/"+hash, func(t *testing.T) {
				h := newHarness(t)
				h.reply(m.pattern, 465, body)
				res, err := m.call(h.client())
				require.Nil(t, res)
				require.ErrorIs(t, err, phala.ErrUnexpectedResponse)
				require.ErrorIs(t, err, phala.ErrComposeHashRequired)
				var ue *phala.UnexpectedResponseError
				require.ErrorAs(t, err, &ue)
				assert.Contains(t, ue.Reason, "not 64 hex")
			})
		}
		t.Run("PatchCVM/"+hash, func(t *testing.T) {
			h := newHarness(t)
			h.reply("PATCH /cvms/{id}", 465, body)
			resp, err := audited(h.client().PatchCVM(context.Background(), "my-app", &phala.PatchCVMRequest{VCPU: phala.Int(2)}))
			require.Nil(t, resp)
			require.ErrorIs(t, err, phala.ErrUnexpectedResponse)
		})
	}
	// A 0x prefix on a valid hash is accepted, as checkComposeHash does.
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}/docker-compose", 465,
		`{"details":[{"field":"compose_hash","value":"0x`+testHash+`"}]}`)
	res, err := audited(h.client().UpdateDockerCompose(context.Background(), "my-app", testCompose, nil))
	require.NoError(t, err)
	assert.Equal(t, "0x"+testHash, res.ComposeHash)
}

// Item 10: the error-only methods keep their signatures; WithUpdateResult
// hands over the correlation id of their 202.
func TestWithUpdateResultReportsTheCorrelationID(t *testing.T) {
	calls := map[string]struct {
		pattern string
		call    func(ctx context.Context, c *phala.Client) error
	}{
		"UpdateCVMResources": {"PATCH /cvms/{id}/resources", func(ctx context.Context, c *phala.Client) error {
			return auditedErr(c.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(2)}))
		}},
		"UpdateOSImage": {"PATCH /cvms/{id}/os-image", func(ctx context.Context, c *phala.Client) error {
			return auditedErr(c.UpdateOSImage(ctx, "my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"}))
		}},
		"CommitCVMComposeFileUpdate": {"PATCH /cvms/{id}/compose_file", func(ctx context.Context, c *phala.Client) error {
			return auditedErr(c.CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash}))
		}},
	}
	for name, tc := range calls {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.reply(tc.pattern, http.StatusAccepted, acceptedJSON, "X-Request-ID", "req_acc")
			c := h.client()
			var res phala.UpdateResult
			require.NoError(t, tc.call(phala.WithUpdateResult(context.Background(), &res), c))
			assert.Equal(t, phala.UpdateResult{Status: phala.StatusInProgress, Message: "CVM update started",
				CorrelationID: testCorrID, RequestID: "req_acc"}, res)

			// Without the option the call works as before; a failed call
			// leaves the result alone.
			require.NoError(t, tc.call(context.Background(), c))
			h2 := newHarness(t)
			h2.reply(tc.pattern, http.StatusConflict, `{"detail":"Another operation is in progress"}`)
			var untouched phala.UpdateResult
			require.ErrorIs(t, tc.call(phala.WithUpdateResult(context.Background(), &untouched), h2.client()), phala.ErrConflict)
			assert.Equal(t, phala.UpdateResult{}, untouched)
		})
	}
	assert.Equal(t, context.Background(), phala.WithUpdateResult(context.Background(), nil))
}

// Item 10: while an older update is still shown (its correlation id in the
// progress), and in the moment after it ended but before the new one
// began, the wait for the new update goes on; it ends only after the new
// update was seen and has finished. The server plays a fixed script, one
// step per read of the state; the detail shows the step last read.
func TestWaitForUpdateIgnoresAnOlderUpdate(t *testing.T) {
	steps := []struct{ status, corr string }{
		{"updating", "corr-old"}, // the older update, still running
		{"running", ""},          // it ended; the new one has not begun
		{"running", ""},
		{"updating", testCorrID}, // the new one
		{"running", ""},          // done
	}
	var mu sync.Mutex
	var step int
	state := func(i int) string {
		prog := "null"
		if c := steps[i].corr; c != "" {
			prog = `{"target":"running","started_at":"2026-03-01T09:00:00Z","correlation_id":"` + c + `"}`
		}
		return `{"id":"cvm_1","name":"my-app","status":"` + steps[i].status + `","progress":` + prog + `}`
	}
	h := newHarness(t)
	var reads []string
	h.handle("GET /cvms/{id}/state", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		i := min(step, len(steps)-1)
		step++
		reads = append(reads, steps[i].status+"/"+steps[i].corr)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(state(i)))
	})
	h.handle("GET /cvms/{id}", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(state(min(step, len(steps)) - 1)))
	})
	st, err := audited(h.client().WaitForUpdate(context.Background(), "my-app",
		&phala.UpdateResult{Status: phala.StatusInProgress, CorrelationID: testCorrID},
		&phala.WaitOptions{PollInterval: time.Millisecond, DisableStreaming: true, StartTimeout: -1}))
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"updating/corr-old", "running/", "running/", "updating/" + testCorrID, "running/"}, reads,
		"the wait read every step: it went on past the older update and the moment before the new one")
}
