package phala

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoggerAndHooksSeeEveryAttempt: one 503 then a 202 gives two request
// lines and one retry line, with the fields the doc comment promises, and
// the hooks see the same attempts; BeforeSend can add a header but never
// sees the API key.
func TestLoggerAndHooksSeeEveryAttempt(t *testing.T) {
	var traceSeen []string
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){
		func(w http.ResponseWriter, r *http.Request) {
			traceSeen = append(traceSeen, r.Header.Get("Traceparent"))
			status(503, `{}`, "X-Request-ID", "req-1")(w, r)
		},
		func(w http.ResponseWriter, r *http.Request) {
			traceSeen = append(traceSeen, r.Header.Get("Traceparent"))
			status(202, accepted, "X-Request-ID", "req-2")(w, r)
		},
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()

	var logs bytes.Buffer
	var infos []RequestInfo
	var keyAtBeforeSend string
	c, err := auditedClient(NewClient(WithAPIKey("k-logged"), WithBaseURL(srv.URL+"/api/v1"),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MaxTotalWait: time.Second}),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithHooks(Hooks{
			BeforeSend: func(_ context.Context, req *http.Request) {
				keyAtBeforeSend = req.Header.Get("X-API-Key")
				req.Header.Set("Traceparent", "00-abc-def-01")
			},
			AfterAttempt: func(_ context.Context, info RequestInfo) { infos = append(infos, info) },
		})))
	require.NoError(t, err)
	_, err = audited(c.UpdateDockerCompose(context.Background(), "my-app", "a: b\n", nil))
	require.NoError(t, err)

	assert.Empty(t, keyAtBeforeSend, "BeforeSend runs before the key is set")
	assert.Equal(t, []string{"00-abc-def-01", "00-abc-def-01"}, traceSeen, "the hook's header is on every attempt")
	require.Len(t, infos, 2)
	assert.Equal(t, RequestInfo{Method: "PATCH", Path: "/api/v1/cvms/my-app/docker-compose", Attempt: 1, StatusCode: 503,
		RequestID: "req-1", Duration: infos[0].Duration}, infos[0])
	assert.Equal(t, 2, infos[1].Attempt)
	assert.Equal(t, 202, infos[1].StatusCode)

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 3, "two attempts and one retry")
	assert.Equal(t, "phala: http request", lines[0]["msg"])
	assert.Equal(t, "phala: retrying", lines[1]["msg"])
	assert.Equal(t, "phala: http request", lines[2]["msg"])
	for _, k := range []string{"method", "path", "status", "duration", "request_id", "attempt"} {
		assert.Contains(t, lines[0], k)
	}
	assert.Equal(t, "req-2", lines[2]["request_id"])
	assert.Contains(t, lines[1], "wait")
	assert.NotContains(t, logs.String(), "k-logged", "no key in the log")
}
