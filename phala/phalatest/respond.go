package phalatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/phalacloud/go-sdk/phala"
)

// response is an answer before it is written.
type response struct {
	status int
	header http.Header
	body   []byte
	// stream, when set, writes the body after the status and headers
	// were sent (an event stream); it runs without Server.mu held. Only
	// the status and headers of such an answer are checked against the
	// OpenAPI document; the stream checks each event's data itself.
	stream func(http.ResponseWriter, *http.Request)
}

func jsonResponse(status int, v any) response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return response{status: status, header: http.Header{"Content-Type": {"application/json"}}, body: b}
}

func (s *Server) newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// maxRequestBody bounds what the server reads of a request.

func writeResponse(w http.ResponseWriter, resp response) {
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// errorResponse is the structured error body.
func errorResponse(status int, code phala.ErrorCode, msg, reqID string, details []detail, suggestions []string) response {
	b := map[string]any{"message": msg, "request_id": reqID}
	if code != "" {
		b["error_code"] = code
	}
	if details != nil {
		b["details"] = details
	}
	if suggestions != nil {
		b["suggestions"] = suggestions
	}
	return jsonResponse(status, b)
}

// addField adds a top-level member to a JSON object body.
func addField(body []byte, key string, v any) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	m[key] = v
	b, _ := json.Marshal(m)
	return b
}

// detail is one {field, value} fact of a structured error.
type detail struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

// retryAfterSeconds renders a Retry-After value.
func retryAfterSeconds(d time.Duration) string {
	return fmt.Sprintf("%d", int(math.Ceil(d.Seconds())))
}

func (cl *call) badRequest(code phala.ErrorCode, msg string, details ...detail) response {
	return errorResponse(http.StatusBadRequest, code, msg, cl.reqID, details, nil)
}

// accepted is the 202 answer of an update.
func (cl *call) accepted(corr string, extra map[string]any) response {
	b := map[string]any{"status": phala.StatusInProgress, "message": "CVM update started", "correlation_id": corr}
	for k, v := range extra {
		b[k] = v
	}
	return jsonResponse(http.StatusAccepted, b)
}

// noChange is the 200 answer of an update whose content is what already
// runs: {"status": phala.StatusNoChange, "message"} (official Go SDK
// types_common.go, UpdateStatusNoChange). Nothing is applied or restarted.
func (cl *call) noChange(msg string) response {
	return jsonResponse(http.StatusOK, map[string]any{"status": phala.StatusNoChange, "message": msg})
}
