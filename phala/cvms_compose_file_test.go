package phala_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

// TestProvisionKeepsEverySpecKey checks that a provision, which overlays
// the caller's changes on the current app-compose, carries over every key
// of the spec's AppCompose schema that the caller did not change: a key
// that gen types but the overlay forgets would silently vanish from the
// new document (and change its compose hash).
func TestProvisionKeepsEverySpecKey(t *testing.T) {
	schema := loadSpec(t).Components.Schemas["AppCompose"].Value
	current := map[string]any{}
	for k, p := range schema.Properties {
		switch {
		case k == "runner":
			current[k] = "docker-compose"
		case p.Value.Type.Is("string"):
			current[k] = "v-" + k
		case p.Value.Type.Is("boolean"):
			current[k] = true
		case p.Value.Type.Is("integer"):
			current[k] = 2.0 // float64, as json.Unmarshal gives it back
		case p.Value.Type.Is("array"):
			current[k] = []any{"V_" + k}
		default:
			t.Fatalf("property %s: no sample value for type %v", k, p.Value.Type)
		}
	}
	current["x_vendor"] = "keep-me"
	body, err := json.Marshal(current)
	require.NoError(t, err)

	h := newHarness(t)
	h.reply("GET /cvms/{id}/compose_file", http.StatusOK, string(body))
	h.reply("POST /cvms/{id}/compose_file/provision", http.StatusOK, `{"compose_hash":"`+testHash+`"}`)
	newCompose := "services:\n  app:\n    image: nginx:1.27\n"
	_, err = h.client().ProvisionCVMComposeFileUpdate(t.Context(), "my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: newCompose})
	require.NoError(t, err)

	reqs := h.requests()
	require.Len(t, reqs, 2)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(reqs[1].Body, &sent))
	want := current
	want["docker_compose_file"] = newCompose
	for k, v := range want {
		assert.Equal(t, v, sent[k], "key %s", k)
	}
}
