package phalatest

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/phalacloud/go-sdk/phala"
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
	// control routes the /_fake/ endpoints; nil without
	// WithControlEndpoints.
	control *http.ServeMux
	// commitTokens are the prepare-only 465 tokens not yet used (commit.go).
	commitTokens map[string]commitToken
}

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
	if o.control {
		s.control = s.controlMux()
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
