package phala

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNewAPIError: any body, any status, decodes without panicking, keeps
// the status and never holds more than MaxErrorBody bytes.
func FuzzNewAPIError(f *testing.F) {
	for _, s := range []string{
		`{"error_code":"ERR-03-001","message":"CVM not found","request_id":"r1","details":[{"field":"x","value":1}]}`,
		`{"detail":"Invalid API key"}`,
		`{"detail":[{"loc":["body","vcpu"],"msg":"bad","type":"int_parsing"}]}`,
		`{"detail":{"message":"m","compose_hash":"ab","detail":{"detail":{}}}}`,
		`<html><body>502 Bad Gateway</body></html>`,
		``, `null`, `[]`, `{"detail":null}`, "\xff\xfe",
	} {
		f.Add(422, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := newAPIError(status, http.Header{"X-Request-Id": {"hdr"}}, body, nil)
		if e.StatusCode != status || len(e.RawBody) > MaxErrorBody || e.Message == "" && http.StatusText(status) != "" {
			t.Fatalf("bad error %+v", e)
		}
		if !errors.Is(e, &APIError{StatusCode: status}) {
			t.Fatal("Is by status failed")
		}
		_ = e.Error()
	})
}

// FuzzParsePrecondition: any 465 body either yields a valid compose hash
// (64 hex) or an error matching both the 465 APIError and, when the body
// cannot be acted on, ErrUnexpectedResponse.
func FuzzParsePrecondition(f *testing.F) {
	for _, s := range []string{
		`{"error_code":"ERR-01-005","details":[{"field":"compose_hash","value":"aa"},{"field":"app_id","value":"bb"},{"field":"kms_info","value":{"chain_id":8453}}]}`,
		`{"message":"m","compose_hash":"aa","app_id":"bb","device_id":"cc","kms_info":{"id":"k"}}`,
		`{"detail":{"compose_hash":"aa","detail":{"app_id":"b"}}}`,
		`{"details":[{"field":"compose_hash","value":7}]}`, `{}`, `nope`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &response{status: statusComposeHashRequired, header: http.Header{}, body: body}
		p, err := parsePrecondition(r)
		switch {
		case err != nil:
			if !errors.Is(err, ErrComposeHashRequired) || !errors.Is(err, ErrUnexpectedResponse) {
				t.Fatalf("error %v is not a 465 APIError and an unexpected response", err)
			}
		case !composeHashRE.MatchString(p.ComposeHash):
			t.Fatalf("a precondition without a valid compose hash: %q", p.ComposeHash)
		}
	})
}

// FuzzCheckCVMID: an accepted id is never a dot segment, never carries
// white space, "/" or invalid UTF-8, and round-trips: bare app ids only gain
// a prefix (case kept), UUIDs only lose their dashes.
func FuzzCheckCVMID(f *testing.F) {
	for _, s := range []string{"my-app", "..", ".", "a/b", "../kms", "app_" + strings.Repeat("a", 40), strings.Repeat("F", 40), "x y", "%2e%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		got, err := checkCVMID(id)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("error %v is not ErrInvalidArgument", err)
			}
			return
		}
		if strings.Trim(got, ".") == "" || strings.ContainsAny(got, " \t\r\n/") || !utf8.ValidString(got) {
			t.Fatalf("accepted %q", got)
		}
		if got != id && got != "app_"+id && !(uuidV4RE.MatchString(id) && got == strings.ReplaceAll(id, "-", "")) {
			t.Fatalf("%q became %q", id, got)
		}
	})
}

// FuzzCVMDetail: any 200 body decodes or fails without panicking, under
// every supported version; a decoded detail's MemoryMB is its MemoryGB
// converted once (x 1024, rounded), and a legacy one's id is its integer.
func FuzzCVMDetail(f *testing.F) {
	for _, s := range []string{
		`{"id":4211,"name":"a","status":"running","memory":1536,"vcpu":2}`,
		`{"id":"cvm_x","name":"a","status":"running","resource":{"memory_in_gb":1.5}}`,
		`{"id":null,"name":"a","status":"running","memory":7}`,
		`{"id":-1e400,"name":"a","status":"x"}`,
		`{"id":"cvm_x","resource":{"memory_in_gb":1e300}}`,
		`[]`, `null`, `{"id":{}}`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
	versions := SupportedAPIVersions()
	f.Fuzz(func(t *testing.T, body []byte, v uint8) {
		c := &Client{cfg: config{apiVersion: versions[int(v)%len(versions)]}}
		info, err := c.decodeCVMInfo(&response{status: 200, body: body})
		if err != nil {
			return
		}
		if info.MemoryMB != 0 && math.Abs(float64(info.MemoryMB)-info.MemoryGB*1024) > 0.5 {
			t.Fatalf("MemoryMB %d is not MemoryGB %v in MB", info.MemoryMB, info.MemoryGB)
		}
	})
}

// FuzzStateEvents: any byte stream given to the SSE parser ends without
// panicking, and a state it calls final has the target status or an error.
func FuzzStateEvents(f *testing.F) {
	for _, s := range []string{
		"event: state\ndata: {\"status\":\"starting\"}\n\nevent: complete\ndata: {\"status\":\"running\"}\n\n",
		"event: timeout\ndata: {}\n\n",
		"event: error\ndata: {\"message\":\"boot failed\"}\n\n",
		": comment\ndata: {\"status\":\"running\"}\n\n",
		"data: {\"status\":\n\n", "event: state\ndata: null\n\n", "\n\n\n", "data:" + strings.Repeat("x", 70000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w := &waiter{id: "my-app", o: WaitOptions{Target: "running"}}
		st, err := w.events(bytes.NewReader(body), nil)
		if err == nil && st != nil && st.Status != "running" {
			t.Fatalf("final state %q is not the target", st.Status)
		}
	})
}
