package phala_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
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
	// k256 adds kms_info.k256_pubkey naming the attacker's signer, as newer
	// API versions carry the KMS root there.
	k256 bool

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
	case (a.dropChainID || a.otherApp != "" || a.k256) && resp.Request.Method == http.MethodGet && detailPath.MatchString(path) && resp.StatusCode == http.StatusOK:
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
		if a.k256 {
			kms["k256_pubkey"] = a.signerHex()
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
	c, err := auditedClient(phala.NewClient(append([]phala.Option{phala.WithBaseURL(a.url), phala.WithAPIKey(srv.APIKey()), phala.WithoutRetries()}, opts...)...))
	require.NoError(t, err)
	return c
}

var trustEnvs = []phala.EnvVar{{Key: "DB_PASSWORD", Value: "correct-horse-battery"}}

func mustPin(t *testing.T, signer string) phala.KeyAnchor {
	t.Helper()
	a, err := audited(phala.PinnedSigner(signer))
	require.NoError(t, err)
	return a
}
