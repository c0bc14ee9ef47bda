package phala

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/gen"
)

// The API key of the leak tests; it has every character class of the
// accepted alphabet so that each escaped form is exercised.
const leakKey = "phak_Leak-Key.0123~abc+xyz/9=="

// leakClient is a client of srv with leakKey, a debug logger and hooks
// whose output it returns, so that a test can grep all of it.
func leakClient(t *testing.T, srv *httptest.Server, opts ...Option) (*Client, *strings.Builder) {
	t.Helper()
	var out strings.Builder
	all := append([]Option{WithAPIKey(leakKey), WithBaseURL(srv.URL + "/api/v1"), WithoutRetries(),
		WithLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithHooks(Hooks{
			AfterAttempt: func(_ context.Context, info RequestInfo) { fmt.Fprintf(&out, "hook %+v %v\n", info, info.Err) },
			OnRetry:      func(ev RetryEvent) { fmt.Fprintf(&out, "retry %+v %v\n", ev, ev.Err) },
		}),
	}, opts...)
	c, err := auditedClient(NewClient(all...))
	require.NoError(t, err)
	return c, &out
}

// noKey fails when text holds the key or a long part of it (half the key
// or more, from its start: what a cut leaves).
func noKey(t *testing.T, what, text string) {
	t.Helper()
	if i := strings.Index(text, leakKey[:len(leakKey)/2]); i >= 0 {
		t.Errorf("%s holds the API key or its first half: ...%q", what, text[max(0, i-40):min(len(text), i+len(leakKey))])
	}
}

// everything formats a result and an error in every way a caller might.
func everything(v any, err error) string {
	s := fmt.Sprintf("%v %+v %#v", v, v, v)
	if j, jerr := json.Marshal(v); jerr == nil {
		s += string(j)
	}
	if err != nil {
		s += fmt.Sprintf(" %v %+v %#v", err, err, err)
		var api *APIError
		if errors.As(err, &api) {
			s += " raw:" + string(api.RawBody) + " id:" + api.RequestID + " loc:" + api.Location + " ra:" + api.RetryAfter
		}
		var be *BootError
		if errors.As(err, &be) {
			s += " boot:" + be.Message
		}
	}
	return s
}

// rawServer answers every request by writing raw bytes on the hijacked
// connection and closing it: a reset, a cut body, a malformed status.
func rawServer(t *testing.T, raw func(r *http.Request) string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		_, _ = buf.WriteString(raw(r))
		_ = buf.Flush()
		// A clean close: the client's read ends early with an error either
		// way (unexpected EOF here, ECONNRESET from a reset), and a close
		// keeps the bytes written before it deterministic.
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// An error body cut by a reset used to skip the scrubber: the key echoed
// in it reached APIError.Message and RawBody.
func TestKeyScrubbedFromABodyCutByAReset(t *testing.T) {
	srv := rawServer(t, func(r *http.Request) string {
		body := `{"message":"echo ` + r.Header.Get("X-API-Key") + ` and more"`
		return fmt.Sprintf("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body)+500, body)
	})
	c, logs := leakClient(t, srv)
	res, err := audited(c.UpdateDockerCompose(context.Background(), "my-app", "services: {}\n", nil))
	require.Error(t, err)
	noKey(t, "the error", everything(res, err))
	noKey(t, "the log", logs.String())

	// A reset inside the key itself: the partial key is dropped too.
	srv2 := rawServer(t, func(r *http.Request) string {
		k := r.Header.Get("X-API-Key")
		body := `{"message":"echo ` + k[:len(k)-3]
		return fmt.Sprintf("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n%s", body)
	})
	c2, logs2 := leakClient(t, srv2)
	res2, err := audited(c2.GetCVMInfo(context.Background(), "my-app"))
	require.Error(t, err)
	noKey(t, "the error", everything(res2, err))
	noKey(t, "the log", logs2.String())
}

// A 2xx body that is not the promised JSON used to reach the decode error
// as a snippet, key included.
func TestKeyScrubbedFromSuccessBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html>proxy says hello %s</html>", r.Header.Get("X-API-Key"))
	}))
	t.Cleanup(srv.Close)
	c, logs := leakClient(t, srv)
	res, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), redacted, "the snippet is kept, the key replaced")
	noKey(t, "the error", everything(res, err))
	st, err := audited(c.GetCVMState(context.Background(), "my-app"))
	require.Error(t, err)
	noKey(t, "the error", everything(st, err))
	noKey(t, "the log", logs.String())
}

// A 200/202 X-Request-ID used to reach UpdateResult.RequestID and the
// debug log as sent; so did every other header of a success.
func TestKeyScrubbedFromSuccessHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-ID", "rq-"+r.Header.Get("X-API-Key"))
		w.Header().Set("X-Echo", url.QueryEscape(r.Header.Get("X-API-Key")))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"status":"in_progress","message":"ok","correlation_id":"c-1"}`)
	}))
	t.Cleanup(srv.Close)
	var seen http.Header
	c, logs := leakClient(t, srv)
	res, err := audited(c.UpdateDockerCompose(context.Background(), "my-app", "services: {}\n", nil))
	require.NoError(t, err)
	assert.Equal(t, "rq-"+redacted, res.RequestID)
	noKey(t, "the result", everything(res, err))
	noKey(t, "the log", logs.String())

	// The raw response as the scrubber hands it on.
	c2, err := auditedClient(NewClient(WithAPIKey(leakKey), WithBaseURL(srv.URL+"/api/v1")))
	require.NoError(t, err)
	req, err := gen.NewGetCVMInfoRequest(c2.server, "my-app", nil)
	r, err := c2.do(context.Background(), opUpdateDockerCompose, req, err)
	require.NoError(t, err)
	seen = r.header
	noKey(t, "the headers", fmt.Sprint(seen))
}

// An SSE "event: error" used to reach BootError.Message as sent.
func TestKeyScrubbedFromStateStreamErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		k := r.Header.Get("X-API-Key")
		fmt.Fprintf(w, "event: state\ndata: {\"status\":\"starting\",\"boot_progress\":\"%s\"}\n\nevent: error\ndata: {\"message\":\"boot failed for %s\"}\n\n", k, k)
	}))
	t.Cleanup(srv.Close)
	c, logs := leakClient(t, srv)
	var events []string
	st, err := audited(c.WaitForCVM(context.Background(), "my-app", &WaitOptions{OnEvent: func(s CVMState) { events = append(events, fmt.Sprintf("%+v", s)) }}))
	var be *BootError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "boot failed for "+redacted, be.Message)
	noKey(t, "the error", everything(st, err))
	noKey(t, "the events", strings.Join(events, "\n"))
	noKey(t, "the log", logs.String())
}

// A key straddling the 64 KiB cut used to survive but for its last 2
// characters in APIError.RawBody.
func TestKeyScrubbedAtTheErrorBodyCut(t *testing.T) {
	for _, tail := range []int{1, 2, len(leakKey) / 2, len(leakKey) - 1} {
		t.Run(fmt.Sprint(tail), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusBadGateway)
				pad := strings.Repeat("x", MaxErrorBody-len(leakKey)+tail)
				fmt.Fprint(w, pad+r.Header.Get("X-API-Key")+strings.Repeat("y", 100))
			}))
			t.Cleanup(srv.Close)
			c, logs := leakClient(t, srv)
			res, err := audited(c.UpdateDockerCompose(context.Background(), "my-app", "services: {}\n", nil))
			var api *APIError
			require.ErrorAs(t, err, &api)
			assert.Len(t, api.RawBody, MaxErrorBody)
			noKey(t, "the error", everything(res, err))
			noKey(t, "the log", logs.String())
		})
	}
}

// The key echoed in encoded forms: JSON \u escapes (what a JSON encoder
// that escapes everything, or <>& in HTML-safe mode, writes), \/, percent
// encoding, HTML character references, and mixtures.
func TestKeyScrubbedInEncodedForms(t *testing.T) {
	uEsc := func(s string, upper bool) string {
		var b strings.Builder
		for _, r := range s {
			f := `\u%04x`
			if upper {
				f = `\u%04X`
			}
			fmt.Fprintf(&b, f, r)
		}
		return b.String()
	}
	pct := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
		return b.String()
	}
	html := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if i%2 == 0 {
				fmt.Fprintf(&b, "&#%d;", s[i])
			} else {
				fmt.Fprintf(&b, "&#x%x;", s[i])
			}
		}
		return b.String()
	}
	jsonSlash := strings.ReplaceAll(leakKey, "/", `\/`)
	mixed := uEsc(leakKey[:5], false) + pct(leakKey[5:10]) + html(leakKey[10:15]) + leakKey[15:]
	forms := map[string]string{
		"raw": leakKey, "json lower": uEsc(leakKey, false), "json upper": uEsc(leakKey, true),
		"json slash": jsonSlash, "percent": pct(leakKey), "query escape": url.QueryEscape(leakKey),
		"html": html(leakKey), "mixed": mixed,
		"base64":             base64.StdEncoding.EncodeToString([]byte(leakKey)),
		"base64 url, offset": base64.RawURLEncoding.EncodeToString([]byte("X-API-Key: " + leakKey)),
		"base64, offset 2":   base64.StdEncoding.EncodeToString([]byte("ab" + leakKey + "!")),
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Request-ID", form)
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintf(w, `{"message":"bad key %s","detail":"%s"}`, form, form)
			}))
			t.Cleanup(srv.Close)
			c, logs := leakClient(t, srv)
			res, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
			var api *APIError
			require.ErrorAs(t, err, &api)
			if strings.HasPrefix(name, "base64") {
				// The characters next to the key's own part also carry
				// bits of the neighbours: they stay.
				assert.Contains(t, api.Message, redacted)
				assert.Contains(t, api.RequestID, redacted)
			} else {
				assert.Equal(t, "bad key "+redacted, api.Message)
				assert.Equal(t, redacted, api.RequestID)
			}
			decoded := everything(res, err)
			// Decode what a reader would: the JSON text and the URL form.
			var m map[string]string
			if json.Unmarshal(api.RawBody, &m) == nil {
				decoded += m["message"] + m["detail"]
			}
			if u, uerr := url.QueryUnescape(string(api.RawBody)); uerr == nil {
				decoded += u
			}
			// Whatever base64 survived, decoded at every alignment.
			for _, f := range strings.FieldsFunc(string(api.RawBody), func(r rune) bool { return strings.ContainsRune(` "{}:,[]`, r) }) {
				for cut := 0; cut < 4 && cut < len(f); cut++ {
					for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
						if d, derr := enc.DecodeString(f[cut:]); derr == nil {
							decoded += string(d)
						}
					}
				}
			}
			noKey(t, "the error", decoded)
			assert.NotContains(t, string(api.RawBody), form)
			noKey(t, "the log", logs.String())
		})
	}
}

// net/http quotes a malformed status line in its error: a transport error
// carries server bytes too.
func TestKeyScrubbedFromTransportErrors(t *testing.T) {
	srv := rawServer(t, func(r *http.Request) string {
		return "HTTP/1.1 " + r.Header.Get("X-API-Key") + " Oops\r\n\r\n"
	})
	c, logs := leakClient(t, srv)
	res, err := audited(c.GetCVMInfo(context.Background(), "my-app"))
	var te *TransportError
	require.ErrorAs(t, err, &te)
	noKey(t, "the error", everything(res, err))
	noKey(t, "the log", logs.String())
}

// The key alphabet: characters JSON, HTML or URLs would escape, white
// space and short keys are refused, with an error that never repeats the key.
func TestAPIKeyAlphabet(t *testing.T) {
	for _, k := range []string{`phak_ab"cdefgh`, `phak_ab\cdefgh`, "phak_ab<cdefgh", "phak_ab>cdefgh", "phak_ab&cdefgh",
		"phak_ab cdefgh", "phak_ab\tcdefg", "phak_abcdéfgh", "phak_ab%2Fcdef", "short", "========", "phak_ab=cdefgh"} {
		_, err := auditedClient(NewClient(WithAPIKey(k)))
		var ia *InvalidArgumentError
		require.ErrorAs(t, err, &ia, k)
		assert.Equal(t, "WithAPIKey", ia.Field)
		assert.NotContains(t, err.Error(), k)
	}
	for _, k := range []string{leakKey, "phak_0123456789abcdefABCDEF", "k-secret", "abc.def_ghi~jkl", "YWJjZGVmZ2hpams="} {
		_, err := auditedClient(NewClient(WithAPIKey(k)))
		require.NoError(t, err, k)
	}
	t.Setenv(EnvAPIKey, "bad key with spaces")
	_, err := auditedClient(NewClient())
	var ia *InvalidArgumentError
	require.ErrorAs(t, err, &ia)
	assert.Equal(t, "$"+EnvAPIKey, ia.Field)
	assert.NotContains(t, err.Error(), "bad key")
}

// WithAPIKey("") still means "no key given": the environment's key applies.
func TestEmptyAPIKeyOptionFallsBackToTheEnvironment(t *testing.T) {
	t.Setenv(EnvAPIKey, "phak_from_env_123")
	c, err := auditedClient(NewClient(WithAPIKey("")))
	require.NoError(t, err)
	assert.Equal(t, secret("phak_from_env_123"), c.cfg.apiKey)
}
