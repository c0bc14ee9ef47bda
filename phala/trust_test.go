package phala_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/sha3"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// The attacker of issue 12: a proxy between the SDK and the API that
// answers with an X25519 key of its own, and reads every env update that
// passes through it.
type attackerProxy struct {
	envKey *ecdh.PrivateKey      // the key it wants the secrets encrypted to
	signer *secp256k1.PrivateKey // a fresh secp256k1 key that signs envKey
	// swapKMSKey replaces GET /kms/{kms}/pubkey/{app} with envKey signed
	// by signer; dropChainID rewrites the CVM detail to a central KMS
	// (chain_id null) carrying envKey.
	swapKMSKey, dropChainID bool
	// otherApp, when set, replaces the detail's app_id (an app whose
	// validly signed key the attacker's own CVM can use).
	otherApp string

	mu        sync.Mutex
	requests  []string // "METHOD /path" of every request seen
	decrypted []string // every env value it could decrypt
	url       string
}

func newAttackerProxy(t *testing.T, upstream *phalatest.Server) *attackerProxy {
	t.Helper()
	envKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := secp256k1.GeneratePrivateKey()
	require.NoError(t, err)
	a := &attackerProxy{envKey: envKey, signer: signer}
	target, err := url.Parse(upstream.RootURL())
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = a.rewrite
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, r.Method+" "+r.URL.Path)
		a.mu.Unlock()
		if r.Method == http.MethodPatch && r.Body != nil {
			body, _ := io.ReadAll(r.Body)
			a.tryDecrypt(body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	a.url = hs.URL + "/api/v1"
	return a
}

var (
	kmsKeyPath = regexp.MustCompile(`^/api/v1/kms/[^/]+/pubkey/([0-9a-fA-F]{40})$`)
	detailPath = regexp.MustCompile(`^/api/v1/cvms/[^/]+$`)
)

func (a *attackerProxy) rewrite(resp *http.Response) error {
	path := resp.Request.URL.Path
	var out []byte
	switch {
	case a.swapKMSKey && resp.Request.Method == http.MethodGet && kmsKeyPath.MatchString(path):
		app, _ := hex.DecodeString(kmsKeyPath.FindStringSubmatch(path)[1])
		pub := a.envKey.PublicKey().Bytes()
		// Message: phala-cloud-api.md, "Encrypted environment variables".
		h := sha3.NewLegacyKeccak256()
		h.Write([]byte("dstack-env-encrypt-pubkey:"))
		h.Write(app)
		h.Write(pub)
		compact := ecdsa.SignCompact(a.signer, h.Sum(nil), true)
		sig := append(append([]byte(nil), compact[1:]...), compact[0]-27-4)
		out, _ = json.Marshal(map[string]string{"public_key": hex.EncodeToString(pub), "signature": hex.EncodeToString(sig)})
	case (a.dropChainID || a.otherApp != "") && resp.Request.Method == http.MethodGet && detailPath.MatchString(path) && resp.StatusCode == http.StatusOK:
		var detail map[string]any
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(body, &detail); err != nil {
			return err
		}
		kms, _ := detail["kms_info"].(map[string]any)
		if kms == nil {
			kms = map[string]any{}
		}
		if a.dropChainID {
			kms["chain_id"] = nil
			kms["encrypted_env_pubkey"] = hex.EncodeToString(a.envKey.PublicKey().Bytes())
		}
		if a.otherApp != "" {
			detail["app_id"] = a.otherApp
		}
		detail["kms_info"] = kms
		out, _ = json.Marshal(detail)
	default:
		return nil
	}
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", fmt.Sprint(len(out)))
	resp.StatusCode = http.StatusOK
	return nil
}

// tryDecrypt decrypts an encrypted_env with the attacker's key, as the VM
// would (phala-cloud-api.md, "Encrypted environment variables").
func (a *attackerProxy) tryDecrypt(body []byte) {
	var req struct {
		EncryptedEnv string `json:"encrypted_env"`
	}
	if json.Unmarshal(body, &req) != nil || req.EncryptedEnv == "" {
		return
	}
	raw, err := hex.DecodeString(req.EncryptedEnv)
	if err != nil || len(raw) < 32+12+16 {
		return
	}
	eph, err := ecdh.X25519().NewPublicKey(raw[:32])
	if err != nil {
		return
	}
	shared, err := a.envKey.ECDH(eph)
	if err != nil {
		return
	}
	block, _ := aes.NewCipher(shared)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, raw[32:44], raw[44:], nil)
	if err != nil {
		return
	}
	var env struct {
		Env []phala.EnvVar `json:"env"`
	}
	_ = json.Unmarshal(plain, &env)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range env.Env {
		a.decrypted = append(a.decrypted, e.Key+"="+e.Value)
	}
}

func (a *attackerProxy) signerHex() string {
	return "0x" + hex.EncodeToString(a.signer.PubKey().SerializeCompressed())
}

// count is how many requests matched method and a path containing part.
func (a *attackerProxy) count(method, part string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, r := range a.requests {
		if strings.HasPrefix(r, method+" ") && strings.Contains(r, part) {
			n++
		}
	}
	return n
}

func (a *attackerProxy) loot() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.decrypted...)
}

func (a *attackerProxy) client(t *testing.T, srv *phalatest.Server, opts ...phala.Option) *phala.Client {
	t.Helper()
	c, err := phala.NewClient(append([]phala.Option{phala.WithBaseURL(a.url), phala.WithAPIKey(srv.APIKey()), phala.WithoutRetries()}, opts...)...)
	require.NoError(t, err)
	return c
}

var trustEnvs = []phala.EnvVar{{Key: "DB_PASSWORD", Value: "correct-horse-battery"}}

func mustPin(t *testing.T, signer string) phala.KeyAnchor {
	t.Helper()
	a, err := phala.PinnedSigner(signer)
	require.NoError(t, err)
	return a
}

// A proxy swaps the on-chain KMS's key for its own, signed by a fresh key.
// Whatever the caller configured, nothing is encrypted to it: no PATCH
// leaves the SDK and the attacker decrypts nothing.
func TestTrustAttackerSwapsKMSKey(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	cvm := phalatest.OnChainCVMName
	ctx := context.Background()

	t.Run("no anchor", func(t *testing.T) {
		a := newAttackerProxy(t, srv)
		a.swapKMSKey = true
		_, err := a.client(t, srv).UpdateEnvs(ctx, cvm, trustEnvs, nil)
		require.ErrorIs(t, err, phala.ErrKeyVerification)
		assert.Contains(t, err.Error(), "phala.WithKeyAnchor(phala.PinnedSigner(", "the message says how to pin a signer")
		assert.Contains(t, err.Error(), "EnvKeyOptions.Anchor")
		assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
		assert.Zero(t, a.count("GET", "/kms/"), "refused before the KMS key was even fetched")
		assert.Empty(t, a.loot(), "the attacker decrypted nothing")

		_, err = a.client(t, srv).GetEnvEncryptPublicKey(ctx, cvm)
		require.ErrorIs(t, err, phala.ErrKeyVerification)
	})

	pinned := srv.KMSSigner()
	for name, call := range map[string]func(a *attackerProxy) (*phala.UpdateResult, error){
		"Anchor": func(a *attackerProxy) (*phala.UpdateResult, error) {
			return a.client(t, srv).UpdateEnvs(ctx, cvm, trustEnvs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: mustPin(t, pinned)}})
		},
		"ExpectedSigner": func(a *attackerProxy) (*phala.UpdateResult, error) {
			return a.client(t, srv).UpdateEnvs(ctx, cvm, trustEnvs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{ExpectedSigner: pinned}})
		},
		"WithKeyAnchor": func(a *attackerProxy) (*phala.UpdateResult, error) {
			return a.client(t, srv, phala.WithKeyAnchor(mustPin(t, pinned))).UpdateEnvs(ctx, cvm, trustEnvs, nil)
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := newAttackerProxy(t, srv)
			a.swapKMSKey = true
			res, err := call(a)
			require.ErrorIs(t, err, phala.ErrKeyVerification)
			assert.Nil(t, res)
			var kve *phala.KeyVerificationError
			require.ErrorAs(t, err, &kve)
			assert.Equal(t, a.signerHex(), kve.Signer)
			assert.Equal(t, strings.ToLower(pinned), kve.TrustedSigner)
			assert.Equal(t, "pinned signer "+strings.ToLower(pinned), kve.Anchor)
			assert.Contains(t, err.Error(), a.signerHex(), "names the signer found")
			assert.Contains(t, err.Error(), strings.ToLower(pinned), "names the signer trusted")
			assert.Contains(t, err.Error(), phalatest.DefaultKMSID)
			assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), "correct-horse-battery", "no env value in the error")
			assert.Equal(t, 1, a.count("GET", "/kms/"))
			assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
			assert.Empty(t, a.loot(), "the attacker decrypted nothing")
		})
	}
	assert.Empty(t, srv.Applied(cvm))
}

// A detail that drops chain_id and carries the attacker's key would take
// the unsigned central path; with a signer or anchor given it is refused.
func TestTrustDroppedChainIDRefusedUnderAnchor(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	cvm := phalatest.OnChainCVMName
	ctx := context.Background()
	pinned := srv.KMSSigner()
	for name, call := range map[string]func(a *attackerProxy) (any, error){
		"ExpectedSigner": func(a *attackerProxy) (any, error) {
			return a.client(t, srv).UpdateEnvs(ctx, cvm, trustEnvs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{ExpectedSigner: pinned}})
		},
		"Anchor": func(a *attackerProxy) (any, error) {
			return a.client(t, srv).UpdateEnvs(ctx, cvm, trustEnvs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: mustPin(t, pinned)}})
		},
		"WithKeyAnchor": func(a *attackerProxy) (any, error) {
			return a.client(t, srv, phala.WithKeyAnchor(mustPin(t, pinned))).UpdateEnvs(ctx, cvm, trustEnvs, nil)
		},
		"GetEnvEncryptPublicKeyWith": func(a *attackerProxy) (any, error) {
			return a.client(t, srv).GetEnvEncryptPublicKeyWith(ctx, cvm, &phala.EnvKeyOptions{Anchor: mustPin(t, pinned)})
		},
	} {
		t.Run(name, func(t *testing.T) {
			a := newAttackerProxy(t, srv)
			a.dropChainID = true
			_, err := call(a)
			require.ErrorIs(t, err, phala.ErrKeyVerification)
			assert.Contains(t, err.Error(), "central KMS")
			assert.Contains(t, err.Error(), "InsecureTrustAPISigner", "says how to accept a genuinely central CVM")
			assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
			assert.Empty(t, a.loot(), "the attacker decrypted nothing")
		})
	}
	assert.Empty(t, srv.Applied(cvm))
}

// The correct pinned signer works, per call and client-wide, and the
// result says what the key was checked against.
func TestTrustPinnedSignerWorks(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0), phalatest.WithCVM(phalatest.CVMSeed{
		Name: "pinned-app", ChainID: 8453, AllowedEnvs: []string{"DB_PASSWORD"}}))
	ctx := context.Background()
	want := strings.ToLower(srv.KMSSigner())
	anchor := mustPin(t, strings.ToUpper(srv.KMSSigner()[:2])+strings.ToUpper(srv.KMSSigner()[2:]))
	assert.Equal(t, "pinned signer "+want, anchor.String(), "normalised to lowercase")

	for name, c := range map[string]struct {
		client *phala.Client
		opts   *phala.UpdateEnvsOptions
	}{
		"per call":    {srv.Client(), &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: anchor}}},
		"client-wide": {srv.Client(phala.WithKeyAnchor(anchor)), nil},
	} {
		t.Run(name, func(t *testing.T) {
			// A value of its own per subtest: the same set twice is a no_change.
			envs := []phala.EnvVar{{Key: "DB_PASSWORD", Value: "correct-horse-" + name}}
			res, err := c.client.UpdateEnvs(ctx, "pinned-app", envs, c.opts)
			require.NoError(t, err)
			assert.Equal(t, phala.StatusInProgress, res.Status)
			require.NotNil(t, res.EnvKey)
			assert.True(t, res.EnvKey.OnChain)
			assert.True(t, res.EnvKey.SignerVerified)
			assert.Equal(t, want, res.EnvKey.Signer)
			assert.Equal(t, "pinned signer "+want, res.EnvKey.Anchor)
			assert.Equal(t, phalatest.DefaultKMSID, res.EnvKey.KMS)
			assert.Equal(t, envs[0].Value, srv.Envs("pinned-app")["DB_PASSWORD"], "the VM decrypts it")

			var keyOpts *phala.EnvKeyOptions
			if c.opts != nil {
				keyOpts = &c.opts.Key
			}
			key, err := c.client.GetEnvEncryptPublicKeyWith(ctx, "pinned-app", keyOpts)
			require.NoError(t, err)
			assert.Equal(t, res.EnvKey.PublicKey, key.PublicKey)
			assert.True(t, key.SignerVerified)
		})
	}

	// The phase-1 answer of an on-chain key change carries the key too.
	res, err := srv.Client(phala.WithKeyAnchor(anchor)).UpdateEnvs(ctx, "pinned-app",
		[]phala.EnvVar{{Key: "DB_PASSWORD", Value: "x"}, {Key: "NEW_KEY", Value: "y"}}, nil)
	require.NoError(t, err)
	require.True(t, res.RequiresOnChainHash)
	require.NotNil(t, res.EnvKey)
	assert.Equal(t, want, res.EnvKey.Signer)
}

// InsecureTrustAPISigner is an explicit opt-in: it works, the result
// names it, and it does what its name says (the API chooses the key).
func TestTrustAPIOptIn(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0), phalatest.WithCVM(phalatest.CVMSeed{
		Name: "trusting-app", ChainID: 8453, AllowedEnvs: []string{"DB_PASSWORD"}}))
	ctx := context.Background()
	optIn := phala.InsecureTrustAPISigner()
	assert.Contains(t, optIn.String(), "InsecureTrustAPISigner")
	_, err := optIn.TrustedSigner(ctx, phala.KMSRef{})
	assert.Error(t, err, "it has no signer of its own")

	res, err := srv.Client().UpdateEnvs(ctx, "trusting-app", trustEnvs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: optIn}})
	require.NoError(t, err)
	require.NotNil(t, res.EnvKey)
	assert.Equal(t, optIn.String(), res.EnvKey.Anchor, "the result says which anchor")
	assert.False(t, res.EnvKey.SignerVerified, "nothing was compared")
	assert.Equal(t, strings.ToLower(srv.KMSSigner()), res.EnvKey.Signer, "the signer found, for the log")
	assert.Equal(t, "correct-horse-battery", srv.Envs("trusting-app")["DB_PASSWORD"])

	// Client-wide, it also takes a central KMS's unsigned key.
	central, err := srv.Client(phala.WithKeyAnchor(optIn)).UpdateEnvs(ctx, phalatest.CentralCVMName, []phala.EnvVar{{Key: "A", Value: "1"}}, nil)
	require.NoError(t, err)
	assert.Equal(t, optIn.String(), central.EnvKey.Anchor)
	assert.False(t, central.EnvKey.OnChain)
	assert.Empty(t, central.EnvKey.Signer)

	// The risk, as documented: a proxy then chooses the key.
	a := newAttackerProxy(t, srv)
	a.swapKMSKey = true
	res, err = a.client(t, srv).UpdateEnvs(ctx, "trusting-app", trustEnvs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: optIn}})
	if err == nil {
		assert.Equal(t, a.signerHex(), res.EnvKey.Signer)
	}
	assert.Equal(t, []string{"DB_PASSWORD=correct-horse-battery"}, a.loot(), "what InsecureTrustAPISigner's doc warns of")
}

// fakeAnchor is a KeyAnchor whose answer the test chooses; it records
// what it was asked.
type fakeAnchor struct {
	signer string
	err    error
	mu     sync.Mutex
	asked  []phala.KMSRef
}

func (f *fakeAnchor) TrustedSigner(_ context.Context, kms phala.KMSRef) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, kms)
	return f.signer, f.err
}

func (f *fakeAnchor) String() string { return "fake anchor" }

// An anchor that fails stops everything: its error is wrapped, the KMS
// key is not fetched, nothing is encrypted or sent.
func TestTrustAnchorErrorStopsTheUpdate(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	ctx := context.Background()
	cvm := phalatest.OnChainCVMName
	rpcDown := errors.New("chain RPC unreachable")
	for name, anchor := range map[string]*fakeAnchor{
		"error":            {err: rpcDown},
		"malformed signer": {signer: "0x04" + strings.Repeat("ab", 64)},
		"empty signer":     {},
	} {
		t.Run(name, func(t *testing.T) {
			a := newAttackerProxy(t, srv) // passes everything through unchanged
			res, err := a.client(t, srv, phala.WithKeyAnchor(anchor)).UpdateEnvs(ctx, cvm, trustEnvs, nil)
			require.ErrorIs(t, err, phala.ErrKeyVerification)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), "fake anchor")
			if anchor.err != nil {
				assert.ErrorIs(t, err, rpcDown, "the anchor's error is wrapped")
			}
			assert.Zero(t, a.count("GET", "/kms/"), "the KMS key was not fetched")
			assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
			require.Len(t, anchor.asked, 1)
		})
	}
	assert.Empty(t, srv.Applied(cvm))

	// What the anchor is given: the KMS as the detail names it.
	anchor := &fakeAnchor{signer: srv.KMSSigner()}
	key, err := srv.Client().GetEnvEncryptPublicKeyWith(ctx, cvm, &phala.EnvKeyOptions{Anchor: anchor})
	require.NoError(t, err)
	assert.Equal(t, "fake anchor", key.Anchor)
	info, err := srv.Client().GetCVMInfo(ctx, cvm)
	require.NoError(t, err)
	require.Len(t, anchor.asked, 1)
	ref := anchor.asked[0]
	assert.Equal(t, phalatest.DefaultKMSID, ref.ID)
	assert.Equal(t, phalatest.DefaultKMSSlug, ref.Slug)
	require.NotNil(t, ref.ChainID)
	assert.Equal(t, int64(8453), *ref.ChainID)
	assert.Equal(t, info.KMSInfo.DstackKMSAddress, ref.ContractAddress)
	assert.Regexp(t, `^0x[0-9a-f]{40}$`, ref.ContractAddress)
	assert.Equal(t, strings.TrimPrefix(info.AppID, "app_"), ref.AppID)
}

// A central-KMS CVM with no anchor keeps working (its key comes unsigned
// from the API); under an anchor it is refused, unless the call opts in.
func TestTrustCentralKMS(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	ctx := context.Background()
	cvm := phalatest.CentralCVMName
	res, err := srv.Client().UpdateEnvs(ctx, cvm, trustEnvs, nil)
	require.NoError(t, err)
	assert.Empty(t, res.EnvKey.Anchor)
	assert.Empty(t, res.EnvKey.Signer)
	assert.False(t, res.EnvKey.SignerVerified)

	pinned := srv.Client(phala.WithKeyAnchor(mustPin(t, srv.KMSSigner())))
	_, err = pinned.UpdateEnvs(ctx, cvm, []phala.EnvVar{{Key: "DB_PASSWORD", Value: "changed"}}, nil)
	require.ErrorIs(t, err, phala.ErrKeyVerification)
	assert.Len(t, srv.Applied(cvm), 1, "the refused call sent nothing")

	res, err = pinned.UpdateEnvs(ctx, cvm, []phala.EnvVar{{Key: "DB_PASSWORD", Value: "changed"}},
		&phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{Anchor: phala.InsecureTrustAPISigner()}})
	require.NoError(t, err)
	assert.Equal(t, phala.InsecureTrustAPISigner().String(), res.EnvKey.Anchor)
}

// Malformed signers and anchors are ErrInvalidArgument errors before any
// request.
func TestTrustBadInput(t *testing.T) {
	good := "0x" + hex.EncodeToString(secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32)).PubKey().SerializeCompressed())
	for _, bad := range []string{
		"", good[2:], "0x", good[:len(good)-2], good + "00", "0x04" + good[4:], "0x" + strings.Repeat("zz", 33),
		"0x" + hex.EncodeToString(secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32)).PubKey().SerializeUncompressed()),
		"0x02" + strings.Repeat("ff", 32), // x >= p: not on the curve
		" " + good,
	} {
		a, err := phala.PinnedSigner(bad)
		assert.Nil(t, a, "%q", bad)
		var iae *phala.InvalidArgumentError
		require.ErrorAs(t, err, &iae, "%q", bad)
		assert.Equal(t, "signer", iae.Field)
	}
	a, err := phala.PinnedSigner(strings.ToUpper(good[2:4]) + good[4:])
	assert.Nil(t, a, "no 0x prefix")
	assert.ErrorIs(t, err, phala.ErrInvalidArgument)

	_, err = phala.NewClient(phala.WithKeyAnchor(nil))
	assert.ErrorIs(t, err, phala.ErrInvalidArgument)
	assert.ErrorContains(t, err, "WithKeyAnchor")
	_, err = phala.NewClient(phala.WithKeyAnchor((*fakeAnchor)(nil)))
	assert.ErrorIs(t, err, phala.ErrInvalidArgument)

	var hits atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(hs.Close)
	c, err := phala.NewClient(phala.WithAPIKey("phak_trust-bad-input"), phala.WithBaseURL(hs.URL+"/api/v1"))
	require.NoError(t, err)
	ctx := context.Background()
	for field, opts := range map[string]phala.EnvKeyOptions{
		"opts.Key.ExpectedSigner": {ExpectedSigner: "0x1234"},
		"opts.Key.Anchor":         {Anchor: (*fakeAnchor)(nil)},
	} {
		_, err := c.UpdateEnvs(ctx, "my-app", trustEnvs, &phala.UpdateEnvsOptions{Key: opts})
		var iae *phala.InvalidArgumentError
		require.ErrorAs(t, err, &iae)
		assert.Equal(t, field, iae.Field)
		_, err = c.GetEnvEncryptPublicKeyWith(ctx, "my-app", &opts)
		require.ErrorAs(t, err, &iae)
		assert.Equal(t, strings.Replace(field, ".Key", "", 1), iae.Field)
	}
	_, err = c.UpdateEnvs(ctx, "my-app", trustEnvs, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{ExpectedSigner: good, Anchor: mustPin(t, good)}})
	assert.ErrorIs(t, err, phala.ErrInvalidArgument, "both set")
	assert.Zero(t, hits.Load(), "no request sent")
}

// A detail naming another app on the same KMS carries a key the pinned
// KMS really signed, for an app the attacker runs. When the caller named
// the CVM by its app id, that is refused.
func TestTrustDetailNamingAnotherApp(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0), phalatest.WithCVM(phalatest.CVMSeed{
		Name: "attacker-app", ChainID: 8453}))
	ctx := context.Background()
	victim, _ := srv.CVM(phalatest.OnChainCVMName)
	theirs, _ := srv.CVM("attacker-app")
	a := newAttackerProxy(t, srv)
	a.otherApp = "app_" + theirs.AppID
	c := a.client(t, srv, phala.WithKeyAnchor(mustPin(t, srv.KMSSigner())))
	for _, id := range []string{"app_" + victim.AppID, victim.AppID, strings.ToUpper(victim.AppID)} {
		_, err := c.UpdateEnvs(ctx, id, trustEnvs, nil)
		require.ErrorIs(t, err, phala.ErrKeyVerification, id)
		assert.Contains(t, err.Error(), theirs.AppID)
		assert.Contains(t, err.Error(), victim.AppID)
	}
	assert.Zero(t, a.count("PATCH", ""), "no PATCH sent")
	assert.Zero(t, a.count("GET", "/kms/"))
	assert.Empty(t, srv.Applied(victim.ID))
	assert.Empty(t, srv.Applied(theirs.ID))

	// Named by its app id, a genuine answer passes, in either case.
	for _, id := range []string{"app_" + victim.AppID, strings.ToUpper(victim.AppID)} {
		res, err := srv.Client(phala.WithKeyAnchor(mustPin(t, srv.KMSSigner()))).GetEnvEncryptPublicKey(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, victim.AppID, res.AppID)
	}
}
