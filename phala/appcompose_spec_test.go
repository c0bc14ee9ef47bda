package phala_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

// TestAppComposeKeysMatchSpec keeps phala.AppCompose's known keys (its JSON
// tags) equal to the properties of the spec's AppCompose schema, so that a
// key the spec documents has a Go field and no field goes undocumented.
func TestAppComposeKeysMatchSpec(t *testing.T) {
	schema := loadSpec(t).Components.Schemas["AppCompose"]
	require.NotNil(t, schema, "components.schemas.AppCompose")
	var spec []string
	for k := range schema.Value.Properties {
		spec = append(spec, k)
	}
	var tags []string
	typ := reflect.TypeFor[phala.AppCompose]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			tags = append(tags, name)
		}
	}
	assert.ElementsMatch(t, spec, tags, "spec's AppCompose properties vs phala.AppCompose JSON tags")
}
