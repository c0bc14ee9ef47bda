package phala_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

// allSentinels are every status sentinel the package exports.
var allSentinels = map[string]error{
	"ErrBadRequest": phala.ErrBadRequest, "ErrUnauthorized": phala.ErrUnauthorized, "ErrForbidden": phala.ErrForbidden,
	"ErrNotFound": phala.ErrNotFound, "ErrConflict": phala.ErrConflict, "ErrValidation": phala.ErrValidation,
	"ErrRateLimited": phala.ErrRateLimited, "ErrServer": phala.ErrServer, "ErrUnavailable": phala.ErrUnavailable,
	"ErrComposeHashRequired": phala.ErrComposeHashRequired, "ErrComposeHashExpired": phala.ErrComposeHashExpired,
	"ErrTransactionVerificationFailed": phala.ErrTransactionVerificationFailed,
	"ErrComposeHashNotAllowed":         phala.ErrComposeHashNotAllowed,
}

var errorStatuses = []struct {
	status   int
	sentinel string
}{
	{400, "ErrBadRequest"}, {401, "ErrUnauthorized"}, {403, "ErrForbidden"}, {404, "ErrNotFound"},
	{409, "ErrConflict"}, {422, "ErrValidation"}, {429, "ErrRateLimited"},
	{466, "ErrComposeHashExpired"}, {467, "ErrTransactionVerificationFailed"}, {468, "ErrComposeHashNotAllowed"},
	{500, "ErrServer"}, {503, "ErrUnavailable"},
}

const bigHTMLSize = 100 << 10

type errorShape struct {
	name string
	body string
	// json: the body is JSON the spec's error schemas accept (except the
	// two 422 cases listed in validates).
	json bool
	want func(t *testing.T, e *phala.APIError, status int)
}

var errorShapes = []errorShape{
	{name: "structured", json: true,
		body: `{"error_code":"ERR-03-001","message":"CVM not found","request_id":"req_body",
			"details":[{"field":"cvm_id","value":{"given":"my-app"}},{"field":"n","value":3}],
			"suggestions":["Check the CVM id"],"links":[{"url":"https://docs.phala.com","label":"Docs"}]}`,
		want: func(t *testing.T, e *phala.APIError, _ int) {
			assert.Equal(t, phala.ErrorCode("ERR-03-001"), e.Code)
			assert.Equal(t, "CVM not found", e.Message)
			assert.Equal(t, "req_body", e.RequestID, "the body's request id wins over the header's")
			require.Len(t, e.Details, 2)
			assert.Equal(t, "cvm_id", e.Details[0].Field)
			assert.JSONEq(t, `{"given":"my-app"}`, string(e.Details[0].Value))
			v, ok := e.Detail("n")
			assert.True(t, ok)
			assert.JSONEq(t, `3`, string(v))
			_, ok = e.Detail("missing")
			assert.False(t, ok)
			assert.Equal(t, []string{"Check the CVM id"}, e.Suggestions)
			assert.Equal(t, []phala.ErrorLink{{URL: "https://docs.phala.com", Label: "Docs"}}, e.Links)
			assert.Empty(t, e.Validation)
		}},
	{name: "legacy flat", json: true,
		body: `{"message":"Compose hash is invalid or expired","compose_hash":"` + testHash + `"}`,
		want: func(t *testing.T, e *phala.APIError, _ int) {
			assert.Empty(t, e.Code)
			assert.Equal(t, "Compose hash is invalid or expired", e.Message)
			assert.Equal(t, "req_header", e.RequestID)
		}},
	{name: "fastapi text", json: true, body: `{"detail":"Another operation is in progress"}`,
		want: func(t *testing.T, e *phala.APIError, _ int) {
			assert.Empty(t, e.Code)
			assert.Equal(t, "Another operation is in progress", e.Message)
			assert.Equal(t, "req_header", e.RequestID)
		}},
	{name: "detail object", json: true,
		body: `{"detail":{"error_code":"ERR-01-007","message":"Transaction verification failed","request_id":"req_inner",
			"details":[{"field":"transaction_hash","value":"` + testTx + `"}]}}`,
		want: func(t *testing.T, e *phala.APIError, _ int) {
			assert.Equal(t, phala.ErrorCode("ERR-01-007"), e.Code)
			assert.Equal(t, "Transaction verification failed", e.Message)
			assert.Equal(t, "req_inner", e.RequestID)
			v, ok := e.Detail("transaction_hash")
			assert.True(t, ok)
			assert.JSONEq(t, `"`+testTx+`"`, string(v))
		}},
	{name: "422 list", json: true,
		body: `{"detail":[{"loc":["body","vcpu"],"msg":"Input should be a valid integer","type":"int_parsing"},
			{"loc":["body","memory"],"msg":"Field required","type":"missing"}]}`,
		want: func(t *testing.T, e *phala.APIError, _ int) {
			assert.Equal(t, []phala.ValidationProblem{
				{Loc: []any{"body", "vcpu"}, Msg: "Input should be a valid integer", Type: "int_parsing"},
				{Loc: []any{"body", "memory"}, Msg: "Field required", Type: "missing"},
			}, e.Validation)
			assert.Equal(t, "request validation failed", e.Message)
			assert.Contains(t, e.Error(), "Input should be a valid integer")
			assert.Contains(t, e.Error(), "Field required")
		}},
	{name: "html", body: "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n",
		want: func(t *testing.T, e *phala.APIError, _ int) {
			assert.Empty(t, e.Code)
			assert.Equal(t, "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> </body> </html>", e.Message)
			assert.Equal(t, "req_header", e.RequestID)
		}},
	{name: "long html", body: "<html>" + strings.Repeat("bad gateway ", 1000) + "</html>",
		want: func(t *testing.T, e *phala.APIError, _ int) {
			assert.LessOrEqual(t, utf8.RuneCountInString(e.Message), 201, "the snippet is bounded")
			assert.True(t, strings.HasPrefix(e.Message, "<html>bad gateway bad gateway"), e.Message)
			assert.True(t, strings.HasSuffix(e.Message, "…"), e.Message)
		}},
	{name: "empty", body: "",
		want: func(t *testing.T, e *phala.APIError, status int) {
			assert.Equal(t, http.StatusText(status), e.Message)
			assert.Empty(t, e.RawBody)
			assert.Equal(t, "req_header", e.RequestID)
		}},
	{name: "over 64 KiB", body: "<html>" + strings.Repeat("x", bigHTMLSize) + "</html>",
		want: func(t *testing.T, e *phala.APIError, _ int) {
			assert.Len(t, e.RawBody, phala.MaxErrorBody, "RawBody is capped")
			assert.LessOrEqual(t, utf8.RuneCountInString(e.Message), 201)
		}},
	{name: "malformed json", body: `{"message": "cut`,
		want: func(t *testing.T, e *phala.APIError, _ int) {
			assert.Equal(t, `{"message": "cut`, e.Message)
		}},
}

// validates says whether the spec declares this answer, so that the
// response can be validated too. Non-JSON bodies are not declared (they
// come from proxies), and a 422 must be FastAPI's list.
func (s errorShape) validates(status int) bool {
	if !s.json {
		return false
	}
	return status != http.StatusUnprocessableEntity || (s.name != "fastapi text" && s.name != "detail object")
}

func TestAPIErrorShapesAndSentinels(t *testing.T) {
	for _, st := range errorStatuses {
		for _, shape := range errorShapes {
			t.Run(fmt.Sprintf("%d/%s", st.status, shape.name), func(t *testing.T) {
				var opts []harnessOption
				if !shape.validates(st.status) {
					opts = append(opts, withoutResponseValidation("this body shape is not declared in the spec for this status; only the request is validated"))
				}
				h := newHarness(t, opts...)
				headers := []string{"X-Request-ID", "req_header"}
				if st.status == http.StatusTooManyRequests || st.status == http.StatusServiceUnavailable {
					headers = append(headers, "Retry-After", "7")
				}
				ct := "application/json"
				if !shape.json {
					ct = "text/html"
				}
				h.handle("PATCH /cvms/{id}/docker-compose", replyFunc(st.status, ct, shape.body, headers...))

				_, err := audited(h.client().UpdateDockerCompose(context.Background(), "my-app", testCompose, nil))
				require.Error(t, err)
				var e *phala.APIError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, st.status, e.StatusCode)
				for name, sentinel := range allSentinels {
					if name == st.sentinel {
						assert.ErrorIs(t, err, sentinel, name)
					} else {
						assert.NotErrorIs(t, err, sentinel, name)
					}
				}
				assert.NotErrorIs(t, err, phala.ErrInvalidArgument)
				if st.status == http.StatusTooManyRequests || st.status == http.StatusServiceUnavailable {
					assert.Equal(t, "7", e.RetryAfter)
				} else {
					assert.Empty(t, e.RetryAfter)
				}
				assert.Empty(t, e.Location)
				if len(shape.body) <= phala.MaxErrorBody {
					assert.Equal(t, shape.body, string(e.RawBody))
				} else {
					assert.Equal(t, shape.body[:phala.MaxErrorBody], string(e.RawBody))
				}
				assert.Contains(t, err.Error(), fmt.Sprintf("HTTP %d", st.status))
				if e.RequestID != "" {
					assert.Contains(t, err.Error(), e.RequestID)
				}
				shape.want(t, e, st.status)
			})
		}
	}
}

// Code-specific targets match only the same status and code.
func TestAPIErrorIsWithCode(t *testing.T) {
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}", phala.HTTPStatusComposeHashExpired, `{"error_code":"ERR-01-006","message":"expired"}`)
	_, err := audited(h.client().ConfirmCVMPatch(context.Background(), "my-app", &phala.ConfirmCVMPatchRequest{ComposeHash: testHash, TransactionHash: testTx}))
	require.ErrorIs(t, err, phala.ErrComposeHashExpired)
	assert.ErrorIs(t, err, &phala.APIError{StatusCode: 466, Code: phala.CodeComposeHashExpired})
	assert.NotErrorIs(t, err, &phala.APIError{StatusCode: 466, Code: phala.CodeComposeHashNotAllowed})
	assert.NotErrorIs(t, err, &phala.APIError{StatusCode: 468, Code: phala.CodeComposeHashExpired})
	assert.False(t, errors.Is(err, errors.New("phala: HTTP 466")))
}

func TestAPIErrorRetryable(t *testing.T) {
	cases := []struct {
		status int
		body   string
		want   bool
	}{
		{409, `{"detail":"Another operation is in progress"}`, true},
		{409, `{"error_code":"ERR-03-007","message":"App id conflict"}`, false},
		{429, `{"error_code":"ERR-05-002","message":"Rate limit exceeded"}`, true},
		{503, `{"detail":"Service temporarily unavailable"}`, true},
		{500, `{"detail":"Internal server error"}`, false},
		{404, `{"error_code":"ERR-03-001","message":"CVM not found"}`, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.body), func(t *testing.T) {
			h := newHarness(t)
			h.reply("PATCH /cvms/{id}/os-image", tc.status, tc.body)
			err := auditedErr(h.client().UpdateOSImage(context.Background(), "my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"}))
			var e *phala.APIError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.want, e.Retryable())
		})
	}
}

// A 3xx is handed back, never followed: the API key must not travel to
// the redirect's target.
func TestRedirectIsNotFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			var hits atomic.Int32
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				hits.Add(1)
				w.WriteHeader(http.StatusAccepted)
			}))
			defer target.Close()
			location := target.URL + "/api/v1/cvms/my-app/docker-compose"

			h := newHarness(t, withoutResponseValidation("the spec declares no 3xx answers; the SDK must report them, not follow them"))
			h.handle("PATCH /cvms/{id}/docker-compose", replyFunc(status, "text/html", "<a>moved</a>", "Location", location))
			_, err := audited(h.client().UpdateDockerCompose(context.Background(), "my-app", testCompose, nil))
			var e *phala.APIError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, status, e.StatusCode)
			assert.Equal(t, location, e.Location)
			assert.Equal(t, int32(0), hits.Load(), "the redirect target must receive nothing")
			assert.Equal(t, 1, h.count())
		})
	}
}

// The server's answer is unmarshalled by the SDK's own JSON types; a
// detail value of any JSON type survives as raw JSON.
func TestAPIErrorDetailValuesAnyJSON(t *testing.T) {
	// The spec's ErrorDetail.value ("any JSON value") is not nullable in
	// OpenAPI 3.0 terms, so a null value is outside it (see the report);
	// the SDK must still decode it.
	h := newHarness(t, withoutResponseValidation("ErrorDetail.value lacks nullable: true in the spec; null is still real JSON"))
	h.reply("GET /cvms/{id}", http.StatusNotFound,
		`{"error_code":"ERR-03-001","message":"m","details":[{"field":"a","value":null},{"field":"b","value":[1,"x"]},{"field":"c"}]}`)
	_, err := audited(h.client().GetCVMInfo(context.Background(), "my-app"))
	var e *phala.APIError
	require.ErrorAs(t, err, &e)
	require.Len(t, e.Details, 3)
	a, ok := e.Detail("a")
	require.True(t, ok)
	assert.Equal(t, "null", string(a))
	b, ok := e.Detail("b")
	require.True(t, ok)
	var got []any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, []any{1.0, "x"}, got)
	c, ok := e.Detail("c")
	assert.True(t, ok)
	assert.Empty(t, c)
}

// Every method maps a refused answer through the same *APIError, and a
// failed first read (visibility, provision) stops the flow.
func TestEveryMethodReportsAPIErrors(t *testing.T) {
	ctx := context.Background()
	body := `{"error_code":"ERR-03-001","message":"CVM not found","request_id":"req_nf"}`
	calls := map[string]func(c *phala.Client) error{
		"UpdateDockerCompose": func(c *phala.Client) error {
			_, err := audited(c.UpdateDockerCompose(ctx, "x-app", testCompose, nil))
			return err
		},
		"UpdatePreLaunchScript": func(c *phala.Client) error {
			_, err := audited(c.UpdatePreLaunchScript(ctx, "x-app", "#!/bin/sh", nil))
			return err
		},
		"UpdateCVMResources": func(c *phala.Client) error {
			return auditedErr(c.UpdateCVMResources(ctx, "x-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(1)}))
		},
		"UpdateCVMVisibility": func(c *phala.Client) error {
			_, err := audited(c.UpdateCVMVisibility(ctx, "x-app", &phala.UpdateVisibilityRequest{PublicLogs: phala.Bool(true), PublicSysinfo: phala.Bool(true)}))
			return err
		},
		"UpdateCVMEnvs": func(c *phala.Client) error {
			_, err := audited(c.UpdateCVMEnvs(ctx, "x-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex}))
			return err
		},
		"UpdateOSImage": func(c *phala.Client) error {
			return auditedErr(c.UpdateOSImage(ctx, "x-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"}))
		},
		"PatchCVM": func(c *phala.Client) error {
			_, err := audited(c.PatchCVM(ctx, "x-app", &phala.PatchCVMRequest{VCPU: phala.Int(2)}))
			return err
		},
		"ConfirmCVMPatch": func(c *phala.Client) error {
			_, err := audited(c.ConfirmCVMPatch(ctx, "x-app", &phala.ConfirmCVMPatchRequest{ComposeHash: testHash, TransactionHash: testTx}))
			return err
		},
		"ProvisionCVMComposeFileUpdate": func(c *phala.Client) error {
			_, err := audited(c.ProvisionCVMComposeFileUpdate(ctx, "x-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: testCompose}))
			return err
		},
		"CommitCVMComposeFileUpdate": func(c *phala.Client) error {
			return auditedErr(c.CommitCVMComposeFileUpdate(ctx, "x-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash}))
		},
		"GetCVMInfo": func(c *phala.Client) error { _, err := audited(c.GetCVMInfo(ctx, "x-app")); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			for _, p := range []string{"GET /cvms/{id}", "PATCH /cvms/{id}", "GET /cvms/{id}/compose_file", "PATCH /cvms/{id}/compose_file",
				"POST /cvms/{id}/compose_file/provision", "PATCH /cvms/{id}/docker-compose", "PATCH /cvms/{id}/pre-launch-script",
				"PATCH /cvms/{id}/resources", "PATCH /cvms/{id}/visibility", "PATCH /cvms/{id}/envs", "PATCH /cvms/{id}/os-image"} {
				h.reply(p, http.StatusNotFound, body)
			}
			err := call(h.client())
			require.ErrorIs(t, err, phala.ErrNotFound)
			var e *phala.APIError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, phala.CodeCVMNotFound, e.Code)
			assert.Equal(t, "req_nf", e.RequestID)
			assert.Equal(t, 1, h.count(), "one request, and no second one after a failed read")
		})
	}
}

// Some endpoints answer 204 or an empty 202; for the error-only methods
// (which the official SDKs treat as void) that is a success. An update that
// returns a result must carry a correlation id: an empty 202 there is an
// ErrUnexpectedResponse error, never a result with nothing to wait for.
func TestEmptySuccessBodies(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, withoutResponseValidation("the spec declares a JSON 202; servers also send 204 or an empty body"))
	h.handle("PATCH /cvms/{id}/resources", replyFunc(http.StatusNoContent, "", ""))
	h.handle("PATCH /cvms/{id}/os-image", replyFunc(http.StatusAccepted, "", ""))
	h.handle("PATCH /cvms/{id}/docker-compose", replyFunc(http.StatusAccepted, "", ""))
	c := h.client()
	require.NoError(t, auditedErr(c.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(2)})))
	require.NoError(t, auditedErr(c.UpdateOSImage(ctx, "my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"})))
	res, err := audited(c.UpdateDockerCompose(ctx, "my-app", testCompose, nil))
	require.ErrorIs(t, err, phala.ErrUnexpectedResponse)
	assert.Nil(t, res)
}
