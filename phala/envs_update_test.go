package phala

import (
	"context"
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envServer answers the CVM detail, the KMS key endpoint and /envs; it
// records the /envs body.
type envServer struct {
	detail   string
	kmsKey   string
	envsBody atomic.Value
	kmsAuth  atomic.Value
}

func (s *envServer) start(t *testing.T) *Client {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/cvms/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, s.detail)
	})
	mux.HandleFunc("GET /api/v1/kms/{kms}/pubkey/{app}", func(w http.ResponseWriter, r *http.Request) {
		s.kmsAuth.Store(r.PathValue("kms") + "/" + r.PathValue("app"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, s.kmsKey)
	})
	mux.HandleFunc("PATCH /api/v1/cvms/{id}/envs", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.envsBody.Store(b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"in_progress","message":"ok","correlation_id":"c-9","allowed_envs_changed":true}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1")))
	require.NoError(t, err)
	return c
}

func TestEncryptAndUpdateEnvsCentralKMS(t *testing.T) {
	ka := loadKnownAnswers(t)
	s := &envServer{detail: fmt.Sprintf(`{"id":"cvm_1","name":"my-app","status":"running","app_id":"%s",
		"kms_info":{"chain_id":null,"encrypted_env_pubkey":"%s"}}`, strings.Repeat("ab", 20), ka.EncryptEnv.RemotePublicKey)}
	c := s.start(t)
	envs := []EnvVar{{Key: "DATABASE_URL", Value: "postgres://u:p@db/x"}, {Key: "SECRET_KEY", Value: "s3cr3t"}}
	res, err := audited(c.EncryptAndUpdateEnvs(context.Background(), "my-app", secretEnvs(envs), nil))
	require.NoError(t, err)
	assert.Equal(t, StatusInProgress, res.Status)
	assert.Equal(t, "c-9", res.CorrelationID)

	var body struct {
		EncryptedEnv string   `json:"encrypted_env"`
		EnvKeys      []string `json:"env_keys"`
	}
	require.NoError(t, json.Unmarshal(s.envsBody.Load().([]byte), &body))
	assert.Equal(t, []string{"DATABASE_URL", "SECRET_KEY"}, body.EnvKeys, "env_keys derived from the set")
	priv, err := hex.DecodeString(ka.EncryptEnv.RemotePrivateKey)
	require.NoError(t, err)
	remote, err := ecdh.X25519().NewPrivateKey(priv)
	require.NoError(t, err)
	got, _ := decryptEnvVars(t, body.EncryptedEnv, remote)
	assert.Equal(t, envs, got, "the VM's key decrypts exactly what was given")
}

func TestGetEnvEncryptPublicKeyOnChain(t *testing.T) {
	ka := loadKnownAnswers(t)
	detail := fmt.Sprintf(`{"id":"cvm_2","name":"chain-app","status":"running","app_id":"app_%s",
		"kms_info":{"chain_id":8453,"id":"kms_base","encrypted_env_pubkey":"%s"}}`, ka.PubkeySig.AppID, strings.Repeat("00", 32))
	good := fmt.Sprintf(`{"public_key":"%s","signature":"%s"}`, ka.PubkeySig.PublicKey, ka.PubkeySig.Signature)
	s := &envServer{detail: detail, kmsKey: good}
	c := s.start(t)

	key, err := audited(c.GetEnvEncryptPublicKey(context.Background(), "chain-app", &EnvKeyOptions{ExpectedSigner: ka.PubkeySig.Signer, AppID: ka.PubkeySig.AppID}))
	require.NoError(t, err)
	assert.True(t, key.OnChain)
	assert.Equal(t, ka.PubkeySig.PublicKey, key.PublicKey, "the signed key, not the detail's")
	assert.Equal(t, ka.PubkeySig.Signer, key.Signer)
	assert.True(t, key.SignerVerified)
	assert.Equal(t, "pinned signer "+ka.PubkeySig.Signer, key.Anchor)
	assert.Equal(t, int64(8453), *key.ChainID)
	assert.Equal(t, "kms_base/"+ka.PubkeySig.AppID, s.kmsAuth.Load())

	_, err = audited(c.GetEnvEncryptPublicKey(context.Background(), "chain-app", &EnvKeyOptions{ExpectedSigner: "0x02" + strings.Repeat("11", 32)}))
	assert.ErrorIs(t, err, ErrInvalidArgument, "0x02 11..11 is not on the curve")

	tampered := []byte(ka.PubkeySig.PublicKey)
	tampered[0] ^= 1
	s.kmsKey = fmt.Sprintf(`{"public_key":"%s","signature":"%s"}`, tampered, ka.PubkeySig.Signature)
	key, err = audited(c.GetEnvEncryptPublicKey(context.Background(), "chain-app", &EnvKeyOptions{Anchor: InsecureTrustAPISigner()}))
	if err == nil {
		// A tampered key recovers some other signer; pinning the signer is what catches it.
		assert.NotEqual(t, ka.PubkeySig.Signer, key.Signer)
		assert.False(t, key.SignerVerified)
	}
	_, err = audited(c.GetEnvEncryptPublicKey(context.Background(), "chain-app", &EnvKeyOptions{ExpectedSigner: ka.PubkeySig.Signer, AppID: ka.PubkeySig.AppID}))
	assert.ErrorIs(t, err, ErrKeyVerification)
	assert.Contains(t, err.Error(), "not by the trusted signer", "refused for its signer, not for its app")
	assert.Contains(t, err.Error(), "kms_base")
}

func TestGetEnvEncryptPublicKeyNamesTheProblem(t *testing.T) {
	s := &envServer{detail: `{"id":"cvm_3","name":"no-kms-id","status":"running","app_id":"` + strings.Repeat("cd", 20) + `","kms_info":{"chain_id":1}}`}
	_, err := audited(s.start(t).GetEnvEncryptPublicKey(context.Background(), "no-kms-id", &EnvKeyOptions{Anchor: InsecureTrustAPISigner()}))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrInvalidArgument))
	assert.Contains(t, err.Error(), "chain 1 KMS")

	s = &envServer{detail: `{"id":"cvm_4","name":"central","status":"running","kms_info":{"chain_id":null}}`}
	_, err = audited(s.start(t).GetEnvEncryptPublicKey(context.Background(), "central", nil))
	assert.ErrorContains(t, err, "central KMS")
}

func TestEncryptAndUpdateEnvsRefusesBadSetsBeforeSending(t *testing.T) {
	s := &envServer{}
	c := s.start(t)
	for _, envs := range [][]EnvVar{nil, {{Key: "1BAD", Value: "v"}}, {{Key: "A", Value: "1"}, {Key: "A", Value: "2"}}} {
		_, err := audited(c.EncryptAndUpdateEnvs(context.Background(), "my-app", secretEnvs(envs), nil))
		assert.ErrorIs(t, err, ErrInvalidArgument)
	}
	assert.Nil(t, s.envsBody.Load())
}
