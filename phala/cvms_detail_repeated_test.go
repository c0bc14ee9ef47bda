package phala

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/gen"
)

// repeatedDetail is a CVM detail in which every field the SDK acts on
// comes twice, the first value differing from the last. encoding/json
// (and so gen's decoder) keeps the last; the hand parsers the SDK had kept
// the first, so GetCVMInfo reported public_logs true where gen reads
// false, and UpdateCVMVisibility re-sent it.
func repeatedDetail(firstKey, lastKey string) string {
	return fmt.Sprintf(`{"id":"cvm_1","name":"my-app",
		"status":"updating","app_id":"%s","compose_hash":"%s",
		"public_logs":true,"public_sysinfo":false,"public_tcbinfo":true,
		"progress":{"target":"update","correlation_id":"c-77"},
		"kms_info":{"chain_id":null,"encrypted_env_pubkey":"%s"},
		"status":"running","app_id":"%s","compose_hash":"%s",
		"public_logs":null,"public_sysinfo":true,"public_tcbinfo":false,
		"progress":null,
		"kms_info":{"chain_id":null,"encrypted_env_pubkey":"%s"}}`,
		strings.Repeat("aa", 20), strings.Repeat("11", 32), firstKey,
		strings.Repeat("bb", 20), strings.Repeat("22", 32), lastKey)
}

// The repeated-key detail reads as gen reads it, through every public
// method that reads the detail: GetCVMInfo, UpdateCVMVisibility (the flags
// it keeps), GetEnvEncryptPublicKey and EncryptAndUpdateEnvs (the key they
// encrypt to) and WaitForUpdate (the progress it waits out).
func TestRepeatedKeyDetailReadsAsGenReadsIt(t *testing.T) {
	ka := loadKnownAnswers(t)
	first := strings.Repeat("cd", 32)
	detail := repeatedDetail(first, ka.EncryptEnv.RemotePublicKey)
	var ref gen.CVMInfo
	require.NoError(t, json.Unmarshal([]byte(detail), &ref))
	require.Nil(t, ref.PublicLogs, "encoding/json: the last value (null) wins")
	require.Nil(t, ref.Progress)

	var visibilityBody, envsBody atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/cvms/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, detail)
	})
	mux.HandleFunc("GET /api/v1/cvms/{id}/state", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"running"}`)
	})
	mux.HandleFunc("PATCH /api/v1/cvms/{id}/visibility", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		visibilityBody.Store(string(b))
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("PATCH /api/v1/cvms/{id}/envs", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		envsBody.Store(string(b))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"in_progress","correlation_id":"c-9"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := auditedClient(NewClient(WithAPIKey("k-repeated"), WithBaseURL(srv.URL+"/api/v1"), WithoutRetries()))
	require.NoError(t, err)
	ctx := context.Background()

	info, err := audited(c.GetCVMInfo(ctx, "my-app"))
	require.NoError(t, err)
	assert.Equal(t, cvmInfoFromGen(&ref), info)
	assert.Equal(t, "running", info.Status)
	assert.Equal(t, strings.Repeat("bb", 20), info.AppID)
	assert.Equal(t, strings.Repeat("22", 32), info.ComposeHash)
	assert.False(t, info.PublicLogs)
	assert.True(t, info.PublicSysinfo)
	assert.Nil(t, info.Progress)
	assert.Equal(t, ka.EncryptEnv.RemotePublicKey, info.KMSInfo.EncryptedEnvPublicKey)

	v, err := audited(c.UpdateCVMVisibility(ctx, "my-app", &UpdateVisibilityRequest{PublicSysinfo: Bool(false)}))
	require.NoError(t, err)
	assert.JSONEq(t, `{"public_sysinfo":false,"public_logs":false}`, visibilityBody.Load().(string), "public_logs as gen reads it")
	assert.False(t, v.PublicLogs)
	assert.False(t, v.PublicTcbinfo)

	key, err := audited(c.GetEnvEncryptPublicKey(ctx, "my-app", &EnvKeyOptions{Anchor: InsecureTrustAPISigner()}))
	require.NoError(t, err)
	assert.Equal(t, ka.EncryptEnv.RemotePublicKey, key.PublicKey)
	assert.Equal(t, strings.Repeat("bb", 20), key.AppID)

	res, err := audited(c.EncryptAndUpdateEnvs(ctx, "my-app", secretEnvs([]EnvVar{{Key: "A", Value: "b"}}), &UpdateEnvsOptions{Key: EnvKeyOptions{Anchor: InsecureTrustAPISigner()}}))
	require.NoError(t, err)
	assert.Equal(t, ka.EncryptEnv.RemotePublicKey, res.EnvKey.PublicKey)
	assert.NotEmpty(t, envsBody.Load())

	// The first progress names the awaited update; the last (null) says
	// none runs: the wait ends at once.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := audited(c.WaitForUpdate(wctx, "my-app", &UpdateResult{Status: StatusInProgress, CorrelationID: "c-77"},
		&WaitOptions{DisableStreaming: true, PollInterval: 10 * time.Millisecond, StartTimeout: time.Nanosecond}))
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
}
