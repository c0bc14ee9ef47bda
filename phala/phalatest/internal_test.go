package phalatest

import (
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/stretchr/testify/require"
)

type vectors struct {
	Encrypt struct {
		RemotePrivateKey string `json:"remote_private_key"`
		EncryptedEnv     string `json:"encrypted_env"`
	} `json:"encrypt_env_known_answer"`
	Sig struct {
		PublicKey string `json:"public_key"`
		AppID     string `json:"app_id"`
		Signature string `json:"signature"`
		Signer    string `json:"recovered_signer_compressed"`
	} `json:"env_pubkey_signature_legacy"`
	Compose []struct {
		AppCompose   map[string]any `json:"app_compose"`
		DumpFormHash string         `json:"dump_form_hash"`
	} `json:"compose_hash"`
}

func loadVectors(t *testing.T) vectors {
	b, err := os.ReadFile("../testdata/vectors.json")
	require.NoError(t, err)
	var v vectors
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

func TestDecryptKnownAnswer(t *testing.T) {
	v := loadVectors(t)
	raw, _ := hex.DecodeString(v.Encrypt.RemotePrivateKey)
	priv, err := ecdh.X25519().NewPrivateKey(raw)
	require.NoError(t, err)
	env, err := decryptEnv(priv, v.Encrypt.EncryptedEnv)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"FOO": "bar"}, env)
	// One flipped bit fails.
	bad := []byte(v.Encrypt.EncryptedEnv)
	bad[len(bad)-1] ^= 1
	_, err = decryptEnv(priv, string(bad))
	require.Error(t, err)
}

func TestSignatureFormat(t *testing.T) {
	v := loadVectors(t)
	app, _ := hex.DecodeString(v.Sig.AppID)
	pub, _ := hex.DecodeString(v.Sig.PublicKey)
	sig, _ := hex.DecodeString(v.Sig.Signature)
	got, err := recoverSigner(envPubkeyDigest(app, pub), sig)
	require.NoError(t, err)
	require.Equal(t, v.Sig.Signer, got, "the digest is built as the JS SDK builds it")

	s := NewServer(WithKMSKey(make32(0x42)))
	defer s.Close()
	mine := s.kms.sign(envPubkeyDigest(app, pub))
	require.Len(t, mine, 65)
	require.LessOrEqual(t, mine[64], byte(1), "v is the recovery id")
	got, err = recoverSigner(envPubkeyDigest(app, pub), mine)
	require.NoError(t, err)
	require.Equal(t, s.KMSSigner(), got)
}

func make32(b byte) []byte {
	out := make([]byte, 32)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestComposeHashIsTheDumpForm(t *testing.T) {
	for _, c := range loadVectors(t).Compose {
		require.Equal(t, c.DumpFormHash, hashOf(c.AppCompose))
	}
}

func TestEveryOperationHasAHandler(t *testing.T) {
	sr, err := loadSpec()
	require.NoError(t, err)
	ids := sr.operationIDs()
	require.Len(t, ids, 18)
	for _, id := range ids {
		require.Contains(t, handlers, id)
	}
	require.Len(t, handlers, len(ids))
}

// TestResponseValidationCatchesViolations proves the self-check can fail.
func TestResponseValidationCatchesViolations(t *testing.T) {
	sr, err := loadSpec()
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPatch, "http://fake/api/v1/cvms/x/visibility", nil)
	route, params, err := sr.router.FindRoute(req)
	require.NoError(t, err)
	ok := jsonResponse(http.StatusOK, map[string]any{"id": 1, "name": "x", "status": "running"})
	require.NoError(t, validateResponse(t.Context(), route, params, req, ok))
	for _, bad := range []response{
		// The visibility answer requires nothing and leaves id untyped (the SDK
		// reads only the flags), but a flag or a described field of the wrong
		// type still breaks it.
		jsonResponse(http.StatusOK, map[string]any{"id": 1, "public_logs": "yes"}),
		jsonResponse(http.StatusOK, map[string]any{"name": 7}),
		jsonResponse(465, map[string]any{"message": "not declared for this operation"}),
	} {
		require.Error(t, validateResponse(t.Context(), route, params, req, bad))
	}
}

func TestViolationsAreRecorded(t *testing.T) {
	s := NewServer()
	defer s.Close()
	orig := handlers["getCVMInfo"]
	handlers["getCVMInfo"] = func(cl *call) response {
		cl.resolve()
		// An id that is neither the detail's string nor the legacy integer.
		return jsonResponse(http.StatusOK, map[string]any{"id": []int{1}, "name": "central-app", "status": "running"})
	}
	defer func() { handlers["getCVMInfo"] = orig }()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/cvms/central-app", nil)
	req.Header.Set("X-API-Key", s.APIKey())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEmpty(t, s.SpecViolations(), "a detail in neither shape breaks the spec")
}

// recoverSigner returns the compressed public key (0x hex) that made an
// r||s||v signature over digest.
func recoverSigner(digest, sig []byte) (string, error) {
	if len(sig) != 65 || sig[64] > 3 {
		return "", errors.New("want 65 bytes r||s||v with v 0..3")
	}
	compact := append([]byte{sig[64] + 27}, sig[:64]...)
	pub, _, err := ecdsa.RecoverCompact(compact, digest)
	if err != nil {
		return "", err
	}
	return "0x" + hex.EncodeToString(pub.SerializeCompressed()), nil
}

// operationIDs lists the spec's operations, sorted.
func (sr *specRouter) operationIDs() []string {
	var ids []string
	for _, item := range sr.doc.Paths.Map() {
		for _, op := range item.Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	sort.Strings(ids)
	return ids
}
