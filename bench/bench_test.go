// Package bench measures what a call costs through the phala facade, next
// to the generated gen client and a hand-written net/http call that sends
// the same bytes, against a loopback server that answers at once. Run with
// `make bench`; nothing here asserts a timing.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/phalacloud/go-sdk/gen"
	"github.com/phalacloud/go-sdk/phala"
)

const (
	apiKey     = "bench-key"
	cvmID      = "my-app"
	compose    = "services:\n  app:\n    image: nginx:latest\n    ports:\n      - \"80:80\"\n"
	accepted   = `{"status":"in_progress","message":"CVM update started","correlation_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff"}`
	apiVersion = phala.DefaultAPIVersion
)

var encryptedEnv = strings.Repeat("0f", 120)

// server answers every request with 202 and counts new TCP connections.
type server struct {
	*httptest.Server
	conns atomic.Int64
}

func newServer(b *testing.B) *server {
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, accepted)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	b.Cleanup(s.Close)
	return s
}

// httpClient is shared by all three contenders so that they differ only in
// what they do per call.
func httpClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	return &http.Client{Transport: t}
}

type call func(ctx context.Context) error

func facadeCalls(b *testing.B, base string) map[string]call {
	c, err := phala.NewClient(phala.WithAPIKey(apiKey), phala.WithBaseURL(base), phala.WithHTTPClient(httpClient()))
	if err != nil {
		b.Fatal(err)
	}
	return map[string]call{
		"UpdateDockerCompose": func(ctx context.Context) error {
			_, err := c.UpdateDockerCompose(ctx, cvmID, compose, nil)
			return err
		},
		"UpdateCVMEnvs": func(ctx context.Context) error {
			_, err := c.UpdateCVMEnvs(ctx, cvmID, &phala.UpdateEnvsRequest{EncryptedEnv: encryptedEnv, EnvKeys: []string{"FOO", "BAR"}})
			return err
		},
		"PatchCVM": func(ctx context.Context) error {
			_, err := c.PatchCVM(ctx, cvmID, &phala.PatchCVMRequest{DockerComposeFile: phala.String(compose), VCPU: phala.Int(4), PublicSysinfo: phala.Bool(true)})
			return err
		},
	}
}

func genCalls(b *testing.B, base string) map[string]call {
	hc := httpClient()
	auth := func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-API-Key", apiKey)
		r.Header.Set("X-Phala-Version", apiVersion)
		return nil
	}
	c, err := gen.NewClient(base, gen.WithHTTPClient(hc), gen.WithRequestEditorFn(auth))
	if err != nil {
		b.Fatal(err)
	}
	done := func(resp *http.Response, err error) error {
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var a gen.UpdateAcceptedResponse
		return json.NewDecoder(resp.Body).Decode(&a)
	}
	keys := []string{"FOO", "BAR"}
	return map[string]call{
		"UpdateDockerCompose": func(ctx context.Context) error {
			return done(c.UpdateDockerComposeWithBody(ctx, cvmID, nil, "text/yaml", strings.NewReader(compose)))
		},
		"UpdateCVMEnvs": func(ctx context.Context) error {
			return done(c.UpdateCVMEnvs(ctx, cvmID, nil, gen.UpdateEnvsRequest{EncryptedEnv: encryptedEnv, EnvKeys: &keys}))
		},
		"PatchCVM": func(ctx context.Context) error {
			s, n, t := compose, 4, true
			return done(c.PatchCVM(ctx, cvmID, nil, gen.PatchCVMRequest{DockerComposeFile: &s, VCPU: &n, PublicSysinfo: &t}))
		},
	}
}

// rawCalls are what a careful hand-written client would do.
func rawCalls(b *testing.B, base string) map[string]call {
	hc := httpClient()
	send := func(ctx context.Context, method, path, ctype string, body []byte) error {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("X-API-Key", apiKey)
		req.Header.Set("X-Phala-Version", apiVersion)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var a struct {
			Status        string `json:"status"`
			Message       string `json:"message"`
			CorrelationID string `json:"correlation_id"`
		}
		return json.NewDecoder(resp.Body).Decode(&a)
	}
	marshal := func(v any) []byte {
		out, _ := json.Marshal(v)
		return out
	}
	return map[string]call{
		"UpdateDockerCompose": func(ctx context.Context) error {
			return send(ctx, http.MethodPatch, "/cvms/"+cvmID+"/docker-compose", "text/yaml", []byte(compose))
		},
		"UpdateCVMEnvs": func(ctx context.Context) error {
			body := marshal(map[string]any{"encrypted_env": encryptedEnv, "env_keys": []string{"FOO", "BAR"}})
			return send(ctx, http.MethodPatch, "/cvms/"+cvmID+"/envs", "application/json", body)
		},
		"PatchCVM": func(ctx context.Context) error {
			body := marshal(map[string]any{"docker_compose_file": compose, "vcpu": 4, "public_sysinfo": true})
			return send(ctx, http.MethodPatch, "/cvms/"+cvmID, "application/json", body)
		},
	}
}

var contenders = []struct {
	name  string
	calls func(*testing.B, string) map[string]call
}{{"facade", facadeCalls}, {"gen", genCalls}, {"nethttp", rawCalls}}

// BenchmarkCall: sequential per-call cost.
func BenchmarkCall(b *testing.B) {
	for _, op := range []string{"UpdateDockerCompose", "UpdateCVMEnvs", "PatchCVM"} {
		for _, c := range contenders {
			b.Run(op+"/"+c.name, func(b *testing.B) {
				s := newServer(b)
				fn := c.calls(b, s.URL+"/api/v1")[op]
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if err := fn(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCallParallel: 64 goroutines share one client; conns/op shows
// whether keep-alive works (it should be ~0: a handful of connections in all).
func BenchmarkCallParallel(b *testing.B) {
	for _, op := range []string{"UpdateDockerCompose", "PatchCVM"} {
		for _, c := range contenders {
			b.Run(op+"/"+c.name, func(b *testing.B) {
				s := newServer(b)
				fn := c.calls(b, s.URL+"/api/v1")[op]
				b.SetParallelism(64 / max(1, testingProcs()))
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					for pb.Next() {
						if err := fn(ctx); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(s.conns.Load()), "conns")
				b.ReportMetric(float64(s.conns.Load())/float64(b.N), "conns/op")
			})
		}
	}
}
