package phalatest

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/getkin/kin-openapi/routers"

	"github.com/phalacloud/go-sdk/phala"
)

// Defaults of the server's options.
const (
	// DefaultUpdateDelay is how long an accepted update keeps a CVM in
	// status "updating".
	DefaultUpdateDelay = 50 * time.Millisecond
	// DefaultPendingExpiry is how long a compose hash answered with 465
	// may be confirmed.
	DefaultPendingExpiry = time.Hour
	// ProvisionExpiry is how long a provisioned compose update may be
	// committed.
	ProvisionExpiry = 14 * 24 * time.Hour
	// DefaultAPIKey is the API key of a server without WithAPIKey.
	DefaultAPIKey = "phak_fake_0123456789abcdef"
)

// Server is an in-memory Phala Cloud that speaks the API's wire format,
// validates every request against the SDK's OpenAPI document and keeps
// the state of its CVMs. Create it with NewServer or NewTestServer; it is
// safe for concurrent use.
type Server struct {
	opts  options
	spec  *specRouter
	http  *httptest.Server
	kms   signer
	url   string
	start time.Time

	mu       sync.Mutex
	cvms     []*cvm
	requests []RecordedRequest
	faults   []*faultState
	rng      *mrand.Rand
	viol     []string
	// changed is closed (and replaced) whenever a CVM's state changes, to
	// wake the state streams; see notifyLocked.
	changed     chan struct{}
	streams     []*StreamRecord
	dropStreams int
	// closing is closed by Close so that open streams end.
	closing   chan struct{}
	closeOnce sync.Once
	// commitTokens are the prepare-only 465 tokens not yet used (commit.go).
	commitTokens map[string]commitToken
}

type options struct {
	apiKey        string
	seeds         []CVMSeed
	noDefaults    bool
	clock         func() time.Time
	updateDelay   time.Duration
	restartLag    time.Duration
	pendingExpiry time.Duration
	listener      net.Listener
	control       bool
	rngSeed       uint64
	kmsKey        []byte
	checkResp     bool
	noStreaming   bool
	streamScale   float64
	maxStream     time.Duration
	chain         ChainChecker
	wrap          []func(http.Handler) http.Handler
}

// Option configures a Server.
type Option func(*options)

// WithAPIKey sets the API key the server accepts (default DefaultAPIKey).
func WithAPIKey(key string) Option { return func(o *options) { o.apiKey = key } }

// WithCVM adds a CVM to the ones the server starts with. NewServer panics
// on a malformed seed (a programming error in the test).
func WithCVM(seed CVMSeed) Option { return func(o *options) { o.seeds = append(o.seeds, seed) } }

// WithoutDefaultCVMs leaves out the two seeded CVMs (CentralCVMName and
// OnChainCVMName).
func WithoutDefaultCVMs() Option { return func(o *options) { o.noDefaults = true } }

// WithClock sets the clock that decides expiries (pending compose hashes,
// provisioned updates) and the end of updates. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithUpdateDelay sets how long a CVM stays "updating" after an accepted
// update (default DefaultUpdateDelay); 0 applies updates at once, without
// an "updating" phase.
func WithUpdateDelay(d time.Duration) Option { return func(o *options) { o.updateDelay = d } }

// WithRestartLag makes an accepted update begin its restart d after the
// 202 answer, as the real API's background job does: for d the CVM still
// shows its previous status ("running") and no progress, then it is
// "updating" with the update's progress for the update delay. It lets a
// test check that a wait for the update does not take that moment for the
// end of the update. The default 0 begins the restart at once.
func WithRestartLag(d time.Duration) Option { return func(o *options) { o.restartLag = d } }

// WithPendingExpiry sets how long a compose hash answered with 465 may be
// confirmed before the server answers 466 (default DefaultPendingExpiry).
func WithPendingExpiry(d time.Duration) Option { return func(o *options) { o.pendingExpiry = d } }

// WithListener serves on l instead of a fresh loopback port, e.g. a fixed
// address for a program; the server closes it.
func WithListener(l net.Listener) Option { return func(o *options) { o.listener = l } }

// WithControlEndpoints mounts the fake's own endpoints under /_fake/ (no
// API key needed), for clients in other languages:
//
//	POST /_fake/register-compose-hash {"cvm_id","compose_hash"} -> {"transaction_hash"}
//	GET  /_fake/envs/{cvmId}          -> the env the VM sees, {"KEY":"value"}
//	GET  /_fake/cvms                  -> the CVMs' ids
//	GET  /_fake/requests              -> the request log
//	GET  /_fake/applied/{cvmId}       -> the changes applied to a CVM
//	GET  /_fake/violations            -> answers that broke the spec
func WithControlEndpoints() Option { return func(o *options) { o.control = true } }

// WithSeed seeds the random generator that decides fractional faults.
func WithSeed(seed uint64) Option { return func(o *options) { o.rngSeed = seed } }

// WithKMSKey sets the 32-byte secp256k1 private key of the on-chain KMS
// (random by default).
func WithKMSKey(key []byte) Option {
	return func(o *options) { o.kmsKey = append([]byte(nil), key...) }
}

// WithResponseValidation turns the check of every answer against the
// OpenAPI document on or off (on by default). Violations are listed by
// SpecViolations; NewTestServer fails the test on any.
func WithResponseValidation(on bool) Option { return func(o *options) { o.checkResp = on } }

// NewServer starts a server. It panics only on programming errors (a
// malformed seed, two CVMs with the same id or name); Close it when done.
func NewServer(opts ...Option) *Server {
	o := options{apiKey: DefaultAPIKey, clock: time.Now, updateDelay: DefaultUpdateDelay,
		pendingExpiry: DefaultPendingExpiry, rngSeed: 1, checkResp: true, streamScale: 1}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	spec, err := loadSpec()
	if err != nil {
		panic(err)
	}
	s := &Server{opts: o, spec: spec, rng: mrand.New(mrand.NewPCG(o.rngSeed, o.rngSeed^0x9e3779b97f4a7c15)),
		changed: make(chan struct{}), closing: make(chan struct{})}
	if len(o.kmsKey) == 32 {
		s.kms = signer{secp256k1.PrivKeyFromBytes(o.kmsKey)}
	} else {
		k, err := secp256k1.GeneratePrivateKey()
		if err != nil {
			panic(err)
		}
		s.kms = signer{k}
	}
	s.start = o.clock()
	seeds := o.seeds
	if !o.noDefaults {
		seeds = append(defaultSeeds(), seeds...)
	}
	for _, sd := range seeds {
		if err := s.addCVM(sd); err != nil {
			panic(err)
		}
	}
	var h http.Handler = s
	for _, wrap := range o.wrap {
		h = wrap(h)
	}
	hs := httptest.NewUnstartedServer(h)
	if o.listener != nil {
		hs.Listener.Close()
		hs.Listener = o.listener
	}
	hs.Start()
	s.http = hs
	s.url = hs.URL
	return s
}

// NewTestServer is NewServer for a test: it closes the server when the
// test ends and fails the test if any answer broke the OpenAPI document.
func NewTestServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(func() {
		s.Close()
		for _, v := range s.SpecViolations() {
			t.Errorf("phalatest: an answer broke the OpenAPI document: %s", v)
		}
	})
	return s
}

// Close shuts the server down. Open state streams end at once (without a
// final event).
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.http.Close()
}

// URL is the API's base URL, including /api/v1 (what PHALA_CLOUD_API_PREFIX holds).
func (s *Server) URL() string { return s.url + apiPrefix }

// RootURL is the server's root, without /api/v1 (for the /_fake/ endpoints).
func (s *Server) RootURL() string { return s.url }

// APIKey is the API key the server accepts.
func (s *Server) APIKey() string { return s.opts.apiKey }

// KMSSigner is the compressed secp256k1 public key (0x + 66 hex) that
// signs the on-chain KMS's env encryption keys.
func (s *Server) KMSSigner() string { return s.kms.pubHex() }

// Client returns a phala.Client pointed at the server with its API key;
// opts come after the server's own and may override them. It panics if
// the options are invalid.
func (s *Server) Client(opts ...phala.Option) *phala.Client {
	all := append([]phala.Option{phala.WithBaseURL(s.URL()), phala.WithAPIKey(s.APIKey()),
		phala.WithHTTPClient(s.http.Client())}, opts...)
	c, err := phala.NewClient(all...)
	if err != nil {
		panic(fmt.Sprintf("phalatest: building the client: %v", err))
	}
	return c
}

func (s *Server) addCVM(sd CVMSeed) error {
	sd, err := sd.normalize()
	if err != nil {
		return err
	}
	for _, c := range s.cvms {
		if c.seed.ID == sd.ID || c.seed.Name == sd.Name || c.seed.AppID == sd.AppID || c.seed.InstanceID == sd.InstanceID || c.seed.VMUUID == sd.VMUUID {
			return fmt.Errorf("phalatest: CVM %s clashes with CVM %s (same id, name, app id, instance id or UUID)", sd.Name, c.seed.Name)
		}
	}
	key, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	c := &cvm{
		seed: sd, numericID: 1000 + len(s.cvms), createdAt: s.start, appCompose: newAppCompose(sd), envKey: key,
		rawEnv: map[string]string{}, status: "running", vcpu: sd.VCPU, memoryMB: sd.MemoryMB, diskGB: sd.DiskGB,
		instance: sd.InstanceType, osImage: sd.OSImage, pending: map[string]*pendingChange{},
		registered: map[string]string{}, provisions: map[string]*provision{},
	}
	for k, v := range sd.Env {
		c.rawEnv[k] = v
	}
	s.cvms = append(s.cvms, c)
	return nil
}

// lookup resolves any id form: hashed id, VM UUID with or without dashes,
// app_<hex>, bare 40-hex app id, instance_<hex>, the integer id of the
// 2025-10-28 detail (the official Go SDK's ResolveCVMID passes it as is), or
// name. Caller holds mu.
func (s *Server) lookup(id string) *cvm {
	lower := strings.ToLower(id)
	for _, c := range s.cvms {
		sd := c.seed
		switch {
		case id == sd.ID, id == sd.Name, id == strconv.Itoa(c.numericID),
			lower == sd.VMUUID, lower == strings.ReplaceAll(sd.VMUUID, "-", ""),
			lower == "app_"+sd.AppID, lower == sd.AppID,
			lower == "instance_"+sd.InstanceID:
			return c
		}
	}
	return nil
}

// CVMIDs lists the hashed ids of the server's CVMs, in seed order.
func (s *Server) CVMIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, c := range s.cvms {
		ids = append(ids, c.seed.ID)
	}
	return ids
}

// CVM returns the normalised seed of the CVM that id names (any id form),
// with every derived id filled in.
func (s *Server) CVM(id string) (CVMSeed, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(id)
	if c == nil {
		return CVMSeed{}, false
	}
	return c.seed, true
}

// Envs returns the environment the CVM's VM would see: the last
// decrypted env set, filtered by the app's allowed_envs. It returns nil
// for an unknown CVM.
func (s *Server) Envs(cvmID string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return nil
	}
	return c.visibleEnv()
}

// AppCompose returns a copy of the CVM's current app-compose and its
// compose hash.
func (s *Server) AppCompose(cvmID string) (map[string]any, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return nil, "", false
	}
	return cloneCompose(c.appCompose), hashOf(c.appCompose), true
}

// Status returns the CVM's run status: "running", "updating" while an
// accepted update runs, or "exited" after a failed boot (see FailNextBoot).
func (s *Server) Status(cvmID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return ""
	}
	s.refreshLocked(c, s.opts.clock())
	return c.status
}

// SpecViolations lists the answers that did not match the OpenAPI
// document (empty when the fake behaved).
func (s *Server) SpecViolations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.viol...)
}

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
const maxRequestBody = 4 << 20

// ServeHTTP answers one request: request id, fault injection, routing
// over the OpenAPI document, API key check, request validation (422), the
// operation itself, and the check of the answer against the document.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.newRequestID()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return // the client went away
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := RecordedRequest{Time: s.opts.clock(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: redactHeader(r.Header), Body: body, RequestID: reqID}

	if strings.HasPrefix(r.URL.Path, "/_fake/") && s.opts.control {
		resp := s.control(r, body)
		resp.header.Set("X-Request-ID", reqID)
		writeResponse(w, resp)
		return
	}

	f := s.pickFault(r)
	if f != nil && !f.AfterApply {
		if f.Latency > 0 {
			sleepCtx(r.Context(), f.Latency)
		}
		if f.Kind != FaultLatency {
			rec.Fault = f.Kind.String()
			s.answerFault(w, r, f, reqID, &rec)
			return
		}
	}

	resp, route, params, applied := s.handle(r, body, reqID)
	resp.header.Set("X-Request-ID", reqID)
	rec.Status, rec.Applied, rec.CVMID, rec.Operation = resp.status, applied.ok, applied.cvmID, applied.op

	if f != nil && f.AfterApply {
		rec.Fault = f.Kind.String()
		if f.Latency > 0 {
			sleepCtx(r.Context(), f.Latency)
		}
		if f.Kind != FaultLatency {
			s.answerFault(w, r, f, reqID, &rec)
			return
		}
	}
	if route != nil && s.opts.checkResp {
		if err := validateResponse(r.Context(), route, params, r, resp); err != nil {
			s.violation(fmt.Sprintf("%s %s -> %d: %v", r.Method, r.URL.Path, resp.status, err))
		}
	}
	s.record(rec)
	writeResponse(w, resp)
	if resp.stream != nil {
		resp.stream(w, r)
	}
}

// violation notes an answer that broke the OpenAPI document.
func (s *Server) violation(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.viol = append(s.viol, v)
}

func writeResponse(w http.ResponseWriter, resp response) {
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// appliedInfo says what handle did.
type appliedInfo struct {
	ok    bool
	cvmID string
	op    string
}

// handle routes, authenticates, validates and runs the operation.
func (s *Server) handle(r *http.Request, body []byte, reqID string) (response, *routers.Route, map[string]string, appliedInfo) {
	if len(body) > maxRequestBody {
		return jsonResponse(http.StatusRequestEntityTooLarge, map[string]any{"detail": "Request body too large"}), nil, nil, appliedInfo{}
	}
	route, params, err := s.spec.router.FindRoute(r)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			return jsonResponse(http.StatusMethodNotAllowed, map[string]any{"detail": "Method Not Allowed"}), nil, nil, appliedInfo{}
		}
		return jsonResponse(http.StatusNotFound, map[string]any{"detail": "Not Found"}), nil, nil, appliedInfo{}
	}
	op := route.Operation.OperationID
	info := appliedInfo{op: op}
	needsKey := route.Operation.Security == nil || len(*route.Operation.Security) > 0
	if needsKey && !s.keyOK(r.Header.Get("X-API-Key")) {
		resp := errorResponse(http.StatusUnauthorized, "", "Invalid or missing API key", reqID, nil,
			[]string{"Send a valid key in the X-API-Key header"})
		resp.body = addField(resp.body, "detail", "Invalid or missing API key")
		return resp, route, params, info
	}
	if probs := validateRequest(r.Context(), route, params, r, body); probs != nil {
		return jsonResponse(http.StatusUnprocessableEntity, map[string]any{"detail": probs}), route, params, info
	}
	h, ok := handlers[op]
	if !ok {
		return jsonResponse(http.StatusNotImplemented, map[string]any{"detail": "Not implemented by the fake: " + op}), route, params, info
	}
	cl := &call{s: s, r: r, body: body, params: params, reqID: reqID, op: op}
	s.mu.Lock()
	cl.now = s.opts.clock()
	resp := h(cl)
	if cl.applied {
		s.notifyLocked()
	}
	s.mu.Unlock()
	info.ok = cl.applied
	if cl.cvm != nil {
		info.cvmID = cl.cvm.seed.ID
	}
	return resp, route, params, info
}

func (s *Server) keyOK(k string) bool {
	return k != "" && subtleEqual(k, s.opts.apiKey)
}

func subtleEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// errorResponse is the structured error body.
func errorResponse(status int, code, msg, reqID string, details []detail, suggestions []string) response {
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
