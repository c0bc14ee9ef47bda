package phalatest

import (
	"net"
	"net/http"
	"time"
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
//	PUT  /_fake/attestation/{cvmId}   -> SetAttestation(cvmId, body); DELETE restores the default
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
