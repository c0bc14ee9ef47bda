package phala_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
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
	h, err := phala.DumpAppComposeHash(b)
	require.NoError(t, err)
	return h
}

func TestCheckComposeHashAcceptsOnlyTheIntendedDocument(t *testing.T) {
	cur := currentCompose(t)
	change := &phala.PatchCVMRequest{DockerComposeFile: phala.String("services:\n  web: {}\n"), AllowedEnvs: []string{"B", "A"}, VCPU: phala.Int(4)}
	want, err := phala.ExpectedAppCompose(cur, change)
	require.NoError(t, err)
	assert.Equal(t, []string{"B", "A"}, want.AllowedEnvs, "as sent")
	assert.Contains(t, want.Extra, "x_server_field", "fields the change does not touch are kept")
	assert.Equal(t, []string{"A"}, cur.AllowedEnvs, "current is not modified")

	ck, err := phala.CheckComposeHash(cur, change, "0x"+dumpHash(t, want))
	require.NoError(t, err)
	assert.Equal(t, dumpHash(t, want), ck.Hash)
	assert.Equal(t, []string{"allowed_envs", "docker_compose_file"}, ck.Changed)
	assert.Equal(t, dumpHash(t, cur), ck.CurrentHash)

	// The dstack form of the same document is accepted too.
	b, _ := json.Marshal(want)
	dstack, err := phala.ComposeHash(b)
	require.NoError(t, err)
	_, err = phala.CheckComposeHash(cur, change, dstack)
	require.NoError(t, err)

	// Only the compose file applied: the error names the field left out.
	partial, _ := phala.ExpectedAppCompose(cur, &phala.PatchCVMRequest{DockerComposeFile: change.DockerComposeFile})
	_, err = phala.CheckComposeHash(cur, change, dumpHash(t, partial))
	var me *phala.ComposeHashMismatchError
	require.True(t, errors.As(err, &me), "%v", err)
	assert.Equal(t, []string{"allowed_envs"}, me.Missing)
	assert.Equal(t, dumpHash(t, want), me.Want)
	assert.Contains(t, err.Error(), "leaves out your change of allowed_envs")

	// A document differing elsewhere (the server added a field).
	other, _ := phala.ExpectedAppCompose(cur, change)
	other.Salt = phala.String("added")
	_, err = phala.CheckComposeHash(cur, change, dumpHash(t, other))
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
		_, err := phala.ExpectedAppCompose(cur, change)
		require.ErrorIs(t, err, phala.ErrInvalidArgument, name)
	}
	_, err := phala.CheckComposeHash(cur, &phala.PatchCVMRequest{PublicLogs: phala.Bool(false)}, "xyz")
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
}
