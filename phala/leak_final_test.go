package phala

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests of secrets that reached a text after the byte-level
// scrubber (issue 20, part 4): each failed on the code before the scrub of
// the final text.

// leakToken is a commit token of the tests; whoever holds one commits
// without the API key.
const leakToken = "ct_Leak-Token.4f9a2b7c1d8e5a"

// noSecret fails when text holds secret.
func noSecret(t *testing.T, what, text, secret string) {
	t.Helper()
	if i := strings.Index(text, secret); i >= 0 {
		t.Errorf("%s holds the secret: ...%q", what, text[max(0, i-40):min(len(text), i+len(secret))])
	}
}

// An `event: error` whose message and error fields each hold half of the
// key: the join reached BootError whole.
func TestKeySplitAcrossStreamErrorFieldsIsScrubbed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		k := r.Header.Get("X-API-Key")
		fmt.Fprintf(w, "event: error\ndata: {\"message\":\"boot failed: %s\",\"error\":\"%s\"}\n\n", k[:len(k)/2], k[len(k)/2:])
	}))
	t.Cleanup(srv.Close)
	c, logs := leakClient(t, srv)
	st, err := audited(c.WaitForCVM(context.Background(), "my-app", nil))
	var be *BootError
	require.ErrorAs(t, err, &be)
	assert.Contains(t, be.Message, "boot failed: ")
	noSecret(t, "the error", everything(st, err), leakKey)
	noSecret(t, "the log", logs.String(), leakKey)
}

// A key broken by one invalid UTF-8 byte passes the byte scrubber; the
// repair of the text (strings.ToValidUTF8) joined it again, in an error
// answer's message and in the snippet of a 200 that is not JSON.
func TestKeyBrokenByInvalidUTF8IsScrubbed(t *testing.T) {
	for _, tc := range []struct {
		name, contentType string
		status            int
	}{
		{"400 text", "text/plain", http.StatusBadRequest},
		{"200 html", "text/html", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				k := r.Header.Get("X-API-Key")
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				fmt.Fprintf(w, "<p>bad key %s\xff%s</p>", k[:10], k[10:])
			}))
			t.Cleanup(srv.Close)
			c, logs := leakClient(t, srv)
			info, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
			require.Error(t, err)
			noSecret(t, "the error", everything(info, err), leakKey)
			noSecret(t, "the log", logs.String(), leakKey)
		})
	}
}

// tokenServer answers every request with status and body, where TOKEN is
// replaced by the token the request's body carried.
func tokenServer(t *testing.T, status int, contentType, body string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Token string `json:"token"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Request-ID", "rq-"+req.Token)
		w.WriteHeader(status)
		io.WriteString(w, strings.ReplaceAll(body, "TOKEN", req.Token))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The commit token is a bearer credential: a server echoing it put it in
// err.Error() (500 message, 404 text, 422 msg), in an *APIError's details
// (466), and through X-Request-ID in the debug log and AfterAttempt hook.
func TestCommitTokenScrubbedFromErrors(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"500 message", "application/json", `{"message":"commit failed for TOKEN"}`, http.StatusInternalServerError},
		{"404 text", "text/plain", `no pending update for token TOKEN`, http.StatusNotFound},
		{"422 msg", "application/json", `{"detail":[{"loc":["body","token"],"msg":"bad token TOKEN","type":"value_error"}]}`, http.StatusUnprocessableEntity},
		{"466 details", "application/json", `{"error_code":"ERR-01-006","message":"expired","details":[{"field":"commit_token","value":"TOKEN"}],"suggestions":["prepare again: TOKEN is used"]}`, HTTPStatusComposeHashExpired},
		{"202 request id", "application/json", `{"status":"in_progress","correlation_id":"c-1"}`, http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, logs := leakClient(t, tokenServer(t, tc.status, tc.contentType, tc.body))
			res, err := audited(c.CommitCVMUpdate(context.Background(), "my-app", secretToken(leakToken), "", ""))
			if tc.status == http.StatusAccepted {
				require.NoError(t, err)
			} else {
				var api *APIError
				require.ErrorAs(t, err, &api)
				for _, d := range api.Details {
					noSecret(t, "a detail", string(d.Value), leakToken)
				}
				noSecret(t, "the suggestions", strings.Join(api.Suggestions, " "), leakToken)
			}
			noSecret(t, "the error", everything(res, err), leakToken)
			noSecret(t, "the log and hooks", logs.String(), leakToken)
		})
	}
}

// A commit token the client received (PatchCVM with PrepareOnly) is
// scrubbed from the client's later texts.
func TestReceivedCommitTokenScrubbedFromLaterErrors(t *testing.T) {
	const received = "ct_Received-Token.9e8d7c6b5a"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPatch {
			w.WriteHeader(statusComposeHashRequired)
			fmt.Fprintf(w, `{"message":"register first","details":[{"field":"compose_hash","value":"%s"},{"field":"commit_token","value":"%s"}]}`,
				strings.Repeat("ab", 32), received)
			return
		}
		w.Header().Set("X-Request-ID", received)
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"message":"pending update %s"}`, received)
	}))
	t.Cleanup(srv.Close)
	c, logs := leakClient(t, srv)
	p, err := audited(c.PatchCVM(context.Background(), "my-app", &PatchCVMRequest{DockerComposeFile: String("services: {}\n"), PrepareOnly: true}))
	require.NoError(t, err)
	require.Equal(t, received, p.CommitToken, "the result carries the token: it is the caller's")
	info, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
	require.Error(t, err)
	noSecret(t, "the later error", everything(info, err), received)
	noSecret(t, "the later log", logs.String()[strings.Index(logs.String(), "GET"):], received)
}

// Env values handed to EncryptAndUpdateEnvs are scrubbed from what the
// call returns, whatever the server echoes.
func TestEnvValueScrubbedFromErrors(t *testing.T) {
	const value = "s3cr3t-env-value-42"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"message":"cannot store DB_PASSWORD=%s"}`, value)
	}))
	t.Cleanup(srv.Close)
	c, logs := leakClient(t, srv)
	res, err := audited(c.EncryptAndUpdateEnvs(context.Background(), "my-app", secretEnvs([]EnvVar{{Key: "DB_PASSWORD", Value: value}}), nil))
	require.Error(t, err)
	noSecret(t, "the error", everything(res, err), value)
	noSecret(t, "the log", logs.String(), value)
}

// A signer's client never saw the prepare-only answer it verifies: the
// commit token in it is handed to VerifyPreparedUpdate and scrubbed from
// what the call returns.
func TestPreparedCommitTokenScrubbedFromVerifyErrors(t *testing.T) {
	const token = "ct_Prepared-Token.1a2b3c4d5e"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-ID", "rq-"+token)
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"message":"pending update %s"}`, token)
	}))
	t.Cleanup(srv.Close)
	c, logs := leakClient(t, srv)
	app := strings.Repeat("ab", 20)
	prepared := &PatchCVMResponse{RequiresOnChainHash: true, AppID: app, ComposeHash: strings.Repeat("cd", 32), CommitToken: token}
	res, err := audited(c.VerifyPreparedUpdate(context.Background(), "app_"+app, "", &PatchCVMRequest{DockerComposeFile: String("services: {}\n")}, prepared))
	require.Error(t, err)
	noSecret(t, "the error", everything(res, err), token)
	noSecret(t, "the log", logs.String(), token)
}
