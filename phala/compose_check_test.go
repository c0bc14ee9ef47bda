package phala_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

func currentCompose(t *testing.T) *phala.AppCompose {
	t.Helper()
	var ac phala.AppCompose
	require.NoError(t, json.Unmarshal([]byte(`{"name":"app","runner":"docker-compose","docker_compose_file":"services: {}\n",
		"allowed_envs":["A"],"public_logs":true,"manifest_version":2,"features":["kms"],"x_server_field":{"k":1}}`), &ac))
	return &ac
}

func dumpHash(t *testing.T, ac *phala.AppCompose) string {
	t.Helper()
	b, err := json.Marshal(ac)
	require.NoError(t, err)
	h, err := audited(phala.DumpAppComposeHash(b))
	require.NoError(t, err)
	return h
}

func TestCheckComposeHashAcceptsOnlyTheIntendedDocument(t *testing.T) {
	cur := currentCompose(t)
	change := &phala.PatchCVMRequest{DockerComposeFile: phala.String("services:\n  web: {}\n"), AllowedEnvs: []string{"B", "A"}, VCPU: phala.Int(4)}
	want, err := audited(phala.ExpectedAppCompose(cur, change))
	require.NoError(t, err)
	assert.Equal(t, []string{"B", "A"}, want.AllowedEnvs, "as sent")
	assert.Contains(t, want.Extra, "x_server_field", "fields the change does not touch are kept")
	assert.Equal(t, []string{"A"}, cur.AllowedEnvs, "current is not modified")

	ck, err := audited(phala.CheckComposeHash(cur, change, "0x"+dumpHash(t, want)))
	require.NoError(t, err)
	assert.Equal(t, dumpHash(t, want), ck.Hash)
	assert.Equal(t, []string{"allowed_envs", "docker_compose_file"}, ck.Changed)
	assert.Equal(t, dumpHash(t, cur), ck.CurrentHash)

	// The dstack form of the same document is accepted too.
	b, _ := json.Marshal(want)
	dstack, err := audited(phala.ComposeHash(b))
	require.NoError(t, err)
	_, err = audited(phala.CheckComposeHash(cur, change, dstack))
	require.NoError(t, err)

	// Only the compose file applied: the error names the field left out.
	partial, _ := audited(phala.ExpectedAppCompose(cur, &phala.PatchCVMRequest{DockerComposeFile: change.DockerComposeFile}))
	_, err = audited(phala.CheckComposeHash(cur, change, dumpHash(t, partial)))
	var me *phala.ComposeHashMismatchError
	require.True(t, errors.As(err, &me), "%v", err)
	assert.Equal(t, []string{"allowed_envs"}, me.Missing)
	assert.Equal(t, dumpHash(t, want), me.Want)
	assert.Contains(t, err.Error(), "leaves out your change of allowed_envs")

	// A document differing elsewhere (the server added a field).
	other, _ := audited(phala.ExpectedAppCompose(cur, change))
	other.Salt = phala.String("added")
	_, err = audited(phala.CheckComposeHash(cur, change, dumpHash(t, other)))
	require.True(t, errors.As(err, &me))
	assert.Nil(t, me.Missing)
	assert.Contains(t, err.Error(), "fields you did not change")
}

func TestExpectedAppComposeRefusesWhatItCannotReproduce(t *testing.T) {
	cur := currentCompose(t)
	for name, change := range map[string]*phala.PatchCVMRequest{
		"default pre-launch script": {PreLaunchScript: phala.String("")},
		"no app-compose field":      {VCPU: phala.Int(2)},
		"nil":                       nil,
	} {
		_, err := audited(phala.ExpectedAppCompose(cur, change))
		require.ErrorIs(t, err, phala.ErrInvalidArgument, name)
	}
	_, err := audited(phala.CheckComposeHash(cur, &phala.PatchCVMRequest{PublicLogs: phala.Bool(false)}, "xyz"))
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
}

// A provision answer is compared with the hash of the whole app-compose
// the SDK sent: a hash of another document is flagged.
func TestProvisionHashComparedWithWhatWasSent(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	ctx := context.Background()
	req := &phala.ProvisionComposeUpdateRequest{DockerComposeFile: "services:\n  web:\n    image: nginx:1.28\n"}
	p, err := audited(auditedFake(srv.Client()).ProvisionCVMComposeFileUpdate(ctx, phalatest.OnChainCVMName, req))
	require.NoError(t, err)
	assert.True(t, p.ComposeHashMatchesSent)
	assert.Equal(t, p.ComposeHash, p.SentComposeHash)

	evil := strings.Repeat("e", 64)
	target, err := url.Parse(srv.RootURL())
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasSuffix(resp.Request.URL.Path, "/provision") {
			return nil
		}
		b, _ := io.ReadAll(resp.Body)
		out := bytes.Replace(b, []byte(p.ComposeHash), []byte(evil), 1)
		resp.Body = io.NopCloser(bytes.NewReader(out))
		resp.ContentLength = int64(len(out))
		resp.Header.Set("Content-Length", fmt.Sprint(len(out)))
		return nil
	}
	hs := httptest.NewServer(rp)
	t.Cleanup(hs.Close)
	c, err := auditedClient(phala.NewClient(phala.WithBaseURL(hs.URL+"/api/v1"), phala.WithAPIKey(srv.APIKey()), phala.WithoutRetries()))
	require.NoError(t, err)
	bad, err := audited(c.ProvisionCVMComposeFileUpdate(ctx, phalatest.OnChainCVMName, req))
	require.NoError(t, err)
	assert.Equal(t, evil, bad.ComposeHash)
	assert.False(t, bad.ComposeHashMatchesSent, "the API's hash is not that of the document sent")
	assert.Equal(t, p.SentComposeHash, bad.SentComposeHash)
}

// CheckComposeChange reads the current app-compose itself and accepts only
// the hash of it with exactly the change applied, for the caller's app; a
// call that names no app is refused before anything is sent.
func TestCheckComposeChange(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
	c := auditedFake(srv.Client())
	ctx := context.Background()
	seed, ok := srv.CVM(phalatest.OnChainCVMName)
	require.True(t, ok)
	change := &phala.PatchCVMRequest{DockerComposeFile: phala.String("services:\n  web:\n    image: nginx:1.28\n")}
	cur, err := audited(c.GetCVMComposeFile(ctx, phalatest.OnChainCVMName))
	require.NoError(t, err)
	want, err := audited(phala.ExpectedAppCompose(cur, change))
	require.NoError(t, err)
	hash := dumpHash(t, want)

	ck, err := audited(c.CheckComposeChange(ctx, phalatest.OnChainCVMName, seed.AppID, change, seed.AppID, hash))
	require.NoError(t, err)
	assert.Equal(t, hash, ck.Hash)
	assert.Equal(t, []string{"docker_compose_file"}, ck.Changed)
	// The app id in its app_ form names the app too.
	_, err = audited(c.CheckComposeChange(ctx, "app_"+seed.AppID, "", change, "0x"+seed.AppID, hash))
	require.NoError(t, err)

	_, err = audited(c.CheckComposeChange(ctx, phalatest.OnChainCVMName, seed.AppID, change, seed.AppID, dumpHash(t, cur)))
	var mismatch *phala.ComposeHashMismatchError
	require.ErrorAs(t, err, &mismatch, "the hash of the current document is not the change's")
	assert.Equal(t, hash, mismatch.Want)

	other := strings.Repeat("ab", 20)
	_, err = audited(c.CheckComposeChange(ctx, phalatest.OnChainCVMName, seed.AppID, change, other, hash))
	var app *phala.AppMismatchError
	require.ErrorAs(t, err, &app)
	assert.Equal(t, other, app.Got)

	srv.ResetRequests()
	_, err = audited(c.CheckComposeChange(ctx, phalatest.OnChainCVMName, "", change, seed.AppID, hash))
	require.ErrorIs(t, err, phala.ErrInvalidArgument, "a CVM name does not name the app")
	assert.Contains(t, err.Error(), "appID")
	assert.Empty(t, srv.Requests(), "refused before any request")
}
