// Package bench measures what a call costs through the phala facade, next
// to the generated gen client and a hand-written net/http twin that sends
// the same bytes (TestTwinsSendSameBytes checks it), against a loopback
// server that answers at once. Run with `make bench`; nothing here asserts
// a timing.
package bench

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phalacloud/go-sdk/gen"
	"github.com/phalacloud/go-sdk/internal/benchdata"
	"github.com/phalacloud/go-sdk/phala"
)

const (
	apiKey     = "bench-key"
	cvmID      = "my-app"
	compose    = "services:\n  app:\n    image: nginx:latest\n    ports:\n      - \"80:80\"\n"
	accepted   = `{"status":"in_progress","message":"CVM update started","correlation_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff"}`
	apiVersion = phala.DefaultAPIVersion
	userAgent  = "phala-go-sdk/" + phala.Version

	// detail is a CVM detail of the 2026-01-21 shape (the one
	// DefaultAPIVersion answers), 935 bytes: benchdata.Detail.
	detail = benchdata.Detail

	// vm is the legacy VM object PATCH /visibility answers (phalatest's
	// vmJSON; official VM schema).
	vm = `{"id":4211,"name":"my-app","status":"running","teepod_id":8,"app_id":"9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a69788796",` +
		`"vm_uuid":"3f2504e04f8941d39a0c0305e82c3301","instance_id":"instance_3f2504e04f8941d39a0c0305e82c3301","vcpu":2,"memory":4096,` +
		`"disk_size":40,"base_image":"dstack-0.5.4","encrypted_env_pubkey":null,"created_at":"2026-01-05T10:00:00Z","listed":false,` +
		`"instance_type":"tdx.medium","public_sysinfo":true,"public_logs":true}`
)

// envKeys and encryptedEnv are a real 20-variable env set encrypted once
// with EncryptEnvVars to a fixed X25519 key: 2,818 hex characters.
var envKeys, encryptedEnv = func() ([]string, string) {
	priv, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		panic(err)
	}
	var vars []phala.EnvVar
	var keys []string
	for i := range 20 {
		k := fmt.Sprintf("APP_SETTING_%02d", i)
		vars = append(vars, phala.EnvVar{Key: k, Value: strings.Repeat(fmt.Sprintf("value-%02d-", i), 6)})
		keys = append(keys, k)
	}
	blob, err := phala.EncryptEnvVars(vars, hex.EncodeToString(priv.PublicKey().Bytes()))
	if err != nil {
		panic(err)
	}
	return keys, blob
}()

// answer is what the loopback server sends for a request.
func answer(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/cvms/"+cvmID:
		_, _ = io.WriteString(w, detail)
	case r.Method == http.MethodPatch && r.URL.Path == "/api/v1/cvms/"+cvmID+"/visibility":
		_, _ = io.WriteString(w, vm)
	default:
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, accepted)
	}
}

// server answers at once and counts new TCP connections.
type server struct {
	*httptest.Server
	conns atomic.Int64
}

func newServer(tb testing.TB, h http.HandlerFunc) *server {
	s := &server{}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	tb.Cleanup(s.Close)
	return s
}

// newTransport is the transport every contender uses (one each, or one
// shared): the same settings, so that they differ only in per-call work.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	return t
}

type call func(ctx context.Context) error

// ops are the benchmarked methods, in this order.
var ops = []string{"UpdateDockerCompose", "UpdateCVMEnvs", "PatchCVM", "GetCVMInfo", "UpdateCVMVisibility"}

func facadeCalls(tb testing.TB, base string, rt http.RoundTripper) map[string]call {
	opts := []phala.Option{phala.WithAPIKey(apiKey), phala.WithBaseURL(base)}
	if rt != nil { // nil: the SDK's default transport
		opts = append(opts, phala.WithHTTPClient(&http.Client{Transport: rt}))
	}
	c, err := phala.NewClient(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]call{
		"UpdateDockerCompose": func(ctx context.Context) error {
			_, err := c.UpdateDockerCompose(ctx, cvmID, compose, nil)
			return err
		},
		"UpdateCVMEnvs": func(ctx context.Context) error {
			_, err := c.UpdateCVMEnvs(ctx, cvmID, &phala.UpdateEnvsRequest{EncryptedEnv: encryptedEnv, EnvKeys: envKeys})
			return err
		},
		"PatchCVM": func(ctx context.Context) error {
			_, err := c.PatchCVM(ctx, cvmID, &phala.PatchCVMRequest{DockerComposeFile: phala.String(compose), VCPU: phala.Int(4), PublicSysinfo: phala.Bool(true)})
			return err
		},
		"GetCVMInfo": func(ctx context.Context) error {
			info, err := c.GetCVMInfo(ctx, cvmID)
			if err == nil && info.VCPU != 2 {
				err = fmt.Errorf("decoded vcpu %d", info.VCPU)
			}
			return err
		},
		"UpdateCVMVisibility": func(ctx context.Context) error {
			v, err := c.UpdateCVMVisibility(ctx, cvmID, &phala.UpdateVisibilityRequest{PublicSysinfo: phala.Bool(true)})
			if err == nil && !v.PublicTcbinfo {
				err = fmt.Errorf("public_tcbinfo not read back")
			}
			return err
		},
	}
}

func genCalls(tb testing.TB, base string, rt http.RoundTripper) map[string]call {
	auth := func(_ context.Context, r *http.Request) error {
		r.Header.Set("User-Agent", userAgent)
		r.Header.Set("X-Phala-Version", apiVersion)
		r.Header.Set("Accept", "application/json")
		r.Header.Set("X-API-Key", apiKey)
		return nil
	}
	c, err := gen.NewClient(base, gen.WithHTTPClient(&http.Client{Transport: rt}), gen.WithRequestEditorFn(auth))
	if err != nil {
		tb.Fatal(err)
	}
	done := func(v any) func(*http.Response, error) error {
		return func(resp *http.Response, err error) error {
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			return json.NewDecoder(resp.Body).Decode(v)
		}
	}
	accepted := func(resp *http.Response, err error) error {
		var a gen.UpdateAcceptedResponse
		return done(&a)(resp, err)
	}
	return map[string]call{
		"UpdateDockerCompose": func(ctx context.Context) error {
			return accepted(c.UpdateDockerComposeWithBody(ctx, cvmID, nil, "text/yaml", strings.NewReader(compose)))
		},
		"UpdateCVMEnvs": func(ctx context.Context) error {
			return accepted(c.UpdateCVMEnvs(ctx, cvmID, nil, gen.UpdateEnvsRequest{EncryptedEnv: encryptedEnv, EnvKeys: &envKeys}))
		},
		"PatchCVM": func(ctx context.Context) error {
			s, n, t := compose, 4, true
			var a gen.UpdateAccepted
			return done(&a)(c.PatchCVM(ctx, cvmID, nil, gen.PatchCVMRequest{DockerComposeFile: &s, VCPU: &n, PublicSysinfo: &t}))
		},
		"GetCVMInfo": func(ctx context.Context) error {
			var d gen.CVMInfo
			return done(&d)(c.GetCVMInfo(ctx, cvmID, nil))
		},
		"UpdateCVMVisibility": func(ctx context.Context) error {
			var d gen.CVMInfo
			if err := done(&d)(c.GetCVMInfo(ctx, cvmID, nil)); err != nil {
				return err
			}
			var v gen.VisibilityResponse
			return done(&v)(c.UpdateCVMVisibility(ctx, cvmID, nil, gen.UpdateVisibilityRequest{PublicSysinfo: true, PublicLogs: *d.PublicLogs}))
		},
	}
}

// rawDetail is what a hand-written client decodes from a CVM detail to
// return what GetCVMInfo returns.
type rawDetail struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	AppID         string `json:"app_id"`
	VMUUID        string `json:"vm_uuid"`
	InstanceID    string `json:"instance_id"`
	Status        string `json:"status"`
	KMSType       string `json:"kms_type"`
	ComposeHash   string `json:"compose_hash"`
	PublicLogs    bool   `json:"public_logs"`
	PublicSysinfo bool   `json:"public_sysinfo"`
	PublicTcbinfo bool   `json:"public_tcbinfo"`
	SecureTime    bool   `json:"secure_time"`
	Listed        bool   `json:"listed"`
	Progress      *struct {
		Target        string `json:"target"`
		StartedAt     string `json:"started_at"`
		CorrelationID string `json:"correlation_id"`
	} `json:"progress"`
	KMSInfo *struct {
		ChainID            *int64 `json:"chain_id"`
		ID                 string `json:"id"`
		Slug               string `json:"slug"`
		EncryptedEnvPubkey string `json:"encrypted_env_pubkey"`
		DstackKMSAddress   string `json:"dstack_kms_address"`
		DstackAppAddress   string `json:"dstack_app_address"`
		DeployerAddress    string `json:"deployer_address"`
		RPCEndpoint        string `json:"rpc_endpoint"`
	} `json:"kms_info"`
	Resource *struct {
		VCPU         int     `json:"vcpu"`
		MemoryInGB   float64 `json:"memory_in_gb"`
		DiskInGB     int     `json:"disk_in_gb"`
		InstanceType string  `json:"instance_type"`
	} `json:"resource"`
}

// visibility is the flags a hand-written one-flag visibility change reads.
type visibility struct {
	PublicLogs    bool  `json:"public_logs"`
	PublicSysinfo bool  `json:"public_sysinfo"`
	PublicTcbinfo *bool `json:"public_tcbinfo,omitempty"`
}

// rawCalls are what a careful hand-written client would do: one
// http.NewRequestWithContext, the headers the SDK sends, the body
// marshalled from a struct, the answer decoded into what the method
// returns.
func rawCalls(tb testing.TB, base string, rt http.RoundTripper) map[string]call {
	hc := &http.Client{Transport: rt}
	do := func(ctx context.Context, method, path, ctype string, body []byte, out any) error {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
		if err != nil {
			return err
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("User-Agent", userAgent)
		req.Header.Set("X-Phala-Version", apiVersion)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-API-Key", apiKey)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(out)
	}
	type acceptedBody struct {
		Status             string `json:"status"`
		Message            string `json:"message"`
		CorrelationID      string `json:"correlation_id"`
		AllowedEnvsChanged bool   `json:"allowed_envs_changed"`
	}
	marshal := func(v any) []byte {
		out, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return out
	}
	return map[string]call{
		"UpdateDockerCompose": func(ctx context.Context) error {
			var a acceptedBody
			return do(ctx, http.MethodPatch, "/cvms/"+cvmID+"/docker-compose", "text/yaml", []byte(compose), &a)
		},
		"UpdateCVMEnvs": func(ctx context.Context) error {
			body := marshal(struct {
				EncryptedEnv string   `json:"encrypted_env"`
				EnvKeys      []string `json:"env_keys"`
			}{encryptedEnv, envKeys})
			var a acceptedBody
			return do(ctx, http.MethodPatch, "/cvms/"+cvmID+"/envs", "application/json", body, &a)
		},
		"PatchCVM": func(ctx context.Context) error {
			body := marshal(struct {
				DockerComposeFile string `json:"docker_compose_file"`
				PublicSysinfo     bool   `json:"public_sysinfo"`
				VCPU              int    `json:"vcpu"`
			}{compose, true, 4})
			var a acceptedBody
			return do(ctx, http.MethodPatch, "/cvms/"+cvmID, "application/json", body, &a)
		},
		"GetCVMInfo": func(ctx context.Context) error {
			var d rawDetail
			err := do(ctx, http.MethodGet, "/cvms/"+cvmID, "", nil, &d)
			if err == nil && d.Resource.VCPU != 2 {
				err = fmt.Errorf("decoded vcpu %d", d.Resource.VCPU)
			}
			return err
		},
		"UpdateCVMVisibility": func(ctx context.Context) error {
			var cur visibility
			if err := do(ctx, http.MethodGet, "/cvms/"+cvmID, "", nil, &cur); err != nil {
				return err
			}
			body := marshal(visibility{PublicLogs: cur.PublicLogs, PublicSysinfo: true})
			var got visibility
			if err := do(ctx, http.MethodPatch, "/cvms/"+cvmID+"/visibility", "application/json", body, &got); err != nil {
				return err
			}
			if got.PublicTcbinfo == nil && (cur.PublicTcbinfo == nil || !*cur.PublicTcbinfo) {
				return fmt.Errorf("public_tcbinfo not read back")
			}
			return nil
		},
	}
}

type contender struct {
	name  string
	calls func(testing.TB, string, http.RoundTripper) map[string]call
}

var contenders = []contender{{"facade", facadeCalls}, {"gen", genCalls}, {"nethttp", rawCalls}}

// BenchmarkCall: sequential per-call cost of each contender, each on its
// own transport and server.
func BenchmarkCall(b *testing.B) {
	for _, op := range ops {
		for _, c := range contenders {
			b.Run(op+"/"+c.name, func(b *testing.B) {
				s := newServer(b, answer)
				fn := c.calls(b, s.URL+"/api/v1", newTransport())[op]
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := fn(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// ratioBlock is how many calls of one contender run back to back before
// the other's turn in BenchmarkRatio.
const ratioBlock = 8

// BenchmarkRatio: the facade and its net/http twin interleaved in blocks
// of ratioBlock calls, on one server and one shared transport, so that both
// see the same machine load. It reports each one's ns per call and
// facade/nethttp (ratio); run it with -count to get one ratio per round.
func BenchmarkRatio(b *testing.B) {
	for _, op := range ops {
		b.Run(op, func(b *testing.B) {
			s := newServer(b, answer)
			rt := newTransport()
			f, r := facadeCalls(b, s.URL+"/api/v1", rt)[op], rawCalls(b, s.URL+"/api/v1", rt)[op]
			ctx := context.Background()
			var tf, tr time.Duration
			n := 0
			for b.Loop() {
				for i, fn := range []call{f, r, r, f} { // ABBA: neither always goes first
					start := time.Now()
					for range ratioBlock / 2 {
						if err := fn(ctx); err != nil {
							b.Fatal(err)
						}
					}
					if i == 0 || i == 3 {
						tf += time.Since(start)
					} else {
						tr += time.Since(start)
					}
				}
				n += ratioBlock
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(tf.Nanoseconds())/float64(n), "facade-ns/call")
			b.ReportMetric(float64(tr.Nanoseconds())/float64(n), "nethttp-ns/call")
			b.ReportMetric(float64(tf)/float64(tr), "ratio")
		})
	}
}

// BenchmarkCallParallel: 64 goroutines share one client; conns is how
// many TCP connections the server accepted in the run, conns/op per call
// (keep-alive at work: it should stay near 0). facade-default is the
// facade on the SDK's own default transport (no WithHTTPClient).
func BenchmarkCallParallel(b *testing.B) {
	all := append([]contender{{"facade-default", func(tb testing.TB, base string, _ http.RoundTripper) map[string]call {
		return facadeCalls(tb, base, nil)
	}}}, contenders...)
	for _, op := range []string{"UpdateDockerCompose", "GetCVMInfo"} {
		for _, c := range all {
			b.Run(op+"/"+c.name, func(b *testing.B) {
				s := newServer(b, answer)
				fn := c.calls(b, s.URL+"/api/v1", newTransport())[op]
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

// parallelPhase is how many calls the 64 goroutines make per phase in
// BenchmarkParallelRatio.
const parallelPhase = 512

// BenchmarkParallelRatio: 64 goroutines, facade and net/http twin on ONE
// shared transport and server, in alternating phases of parallelPhase
// calls (ABBA); it reports each one's calls/s and facade/nethttp
// throughput (ratio; above 1 means the facade does more calls/s).
func BenchmarkParallelRatio(b *testing.B) {
	for _, op := range []string{"UpdateDockerCompose", "GetCVMInfo"} {
		b.Run(op, func(b *testing.B) {
			s := newServer(b, answer)
			rt := newTransport()
			f, r := facadeCalls(b, s.URL+"/api/v1", rt)[op], rawCalls(b, s.URL+"/api/v1", rt)[op]
			phase := func(fn call) time.Duration {
				var next atomic.Int64
				var wg sync.WaitGroup
				var failed atomic.Value
				start := time.Now()
				for range 64 {
					wg.Go(func() {
						for next.Add(1) <= parallelPhase {
							if err := fn(context.Background()); err != nil {
								failed.Store(err)
								return
							}
						}
					})
				}
				wg.Wait()
				if err, _ := failed.Load().(error); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			var tf, tr time.Duration
			n := 0
			for b.Loop() {
				tf += phase(f)
				tr += phase(r)
				tr += phase(r)
				tf += phase(f)
				n += 2 * parallelPhase
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(n)/tf.Seconds(), "facade-calls/s")
			b.ReportMetric(float64(n)/tr.Seconds(), "nethttp-calls/s")
			b.ReportMetric(tr.Seconds()/tf.Seconds(), "ratio")
			b.ReportMetric(float64(s.conns.Load()), "conns")
		})
	}
}
