package phala

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppComposeRoundTripKeepsHash(t *testing.T) {
	docs := []string{
		`{"name":"demo","runner":"docker-compose","docker_compose_file":"services: {}\n<&>","manifest_version":2,"kms_enabled":true,"public_logs":false,"allowed_envs":[],"features":["kms"],"custom":{"b":[1,2.0,1e21],"a":"x"},"pre_launch_script":null}`,
		`{"name":"","manifest_version":2.5,"salt":"s","storage_fs":"zfs","key_provider":"kms","key_provider_id":"00ff","unknown_flag":false}`,
		`{"name":7,"allowed_envs":["A",1],"bash_script":"echo"}`,
		`{"name":"x","name":"y","runner":"bash","runner":"docker-compose"}`,
	}
	docs = append(docs, composeCorpus(100)...)
	for i, doc := range docs {
		want, err := audited(ComposeHash([]byte(doc)))
		require.NoError(t, err)
		var c AppCompose
		require.NoError(t, json.Unmarshal([]byte(doc), &c), "doc %d", i)
		out, err := json.Marshal(c)
		require.NoError(t, err)
		got, err := audited(ComposeHash(out))
		require.NoError(t, err)
		assert.Equal(t, want, got, "doc %d: %s\n-> %s", i, doc, out)
		// pointer receiver path too
		out2, err := json.Marshal(&c)
		require.NoError(t, err)
		assert.Equal(t, out, out2)
	}
}

func TestAppComposeFields(t *testing.T) {
	var c AppCompose
	require.NoError(t, json.Unmarshal([]byte(`{"name":"demo","runner":"bash","kms_enabled":false,"manifest_version":2,"pre_launch_script":null,"x":{"y":1}}`), &c))
	assert.Equal(t, "demo", c.Name)
	require.NotNil(t, c.Runner)
	assert.Equal(t, "bash", *c.Runner)
	require.NotNil(t, c.KMSEnabled)
	assert.False(t, *c.KMSEnabled)
	require.NotNil(t, c.ManifestVersion)
	assert.Equal(t, 2, *c.ManifestVersion)
	assert.Nil(t, c.PreLaunchScript)
	assert.Nil(t, c.GatewayEnabled)
	assert.JSONEq(t, `null`, string(c.Extra["pre_launch_script"]))
	assert.JSONEq(t, `{"y":1}`, string(c.Extra["x"]))

	// A Go-built document.
	runner, yaml := "docker-compose", "services:\n  a:\n    image: nginx\n"
	on := true
	built := AppCompose{Name: "demo", Runner: &runner, DockerComposeFile: &yaml, GatewayEnabled: &on, AllowedEnvs: []string{"FOO"},
		Extra: map[string]json.RawMessage{"runner": json.RawMessage(`"ignored"`), "z": json.RawMessage(`[1]`)}}
	out, err := json.Marshal(built)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"demo","runner":"docker-compose","docker_compose_file":"services:\n  a:\n    image: nginx\n","gateway_enabled":true,"allowed_envs":["FOO"],"z":[1]}`, string(out))

	_, err = json.Marshal(AppCompose{Extra: map[string]json.RawMessage{"bad": json.RawMessage(`{`)}})
	assert.Error(t, err)
}

// appComposeTags returns the JSON keys of AppCompose's fields.
func appComposeTags() []string {
	var tags []string
	typ := reflect.TypeFor[AppCompose]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			tags = append(tags, name)
		}
	}
	return tags
}

// TestAppComposeFieldTable keeps the table AppCompose's (un)marshaller uses
// equal to its JSON tags (TestAppComposeKeysMatchSpec compares the tags
// with the spec).
func TestAppComposeFieldTable(t *testing.T) {
	var table []string
	for k := range new(AppCompose).appComposeFields() {
		table = append(table, k)
	}
	assert.ElementsMatch(t, appComposeTags(), table)
}
