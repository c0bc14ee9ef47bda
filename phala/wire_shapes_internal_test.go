package phala

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/specdoc"
)

// The wire shapes decoded by hand (for the tolerant decoding gen's types
// cannot give: raw values, several body forms) stay in step with the spec:
// their JSON names are the schema's properties, except those another
// decoder reads.
func TestHandWrittenWireShapesMatchTheSpec(t *testing.T) {
	doc, err := specdoc.Doc()
	require.NoError(t, err)
	for _, tc := range []struct {
		schema string
		shape  any
		// readElsewhere are schema properties this shape leaves to another
		// decoder of the same body.
		readElsewhere []string
	}{
		{"UpdateAcceptedResponse", acceptedBody{}, nil},
		{"ErrorResponse", errorBody{}, nil},
		// newAPIError decodes the same 465 body for the error fields.
		{"ComposePreconditionResponse", preconditionBody{}, []string{"error_code", "links", "suggestions"}},
		{"EnvEncryptPublicKeyResponse", kmsKeyBody{}, nil},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			ref := doc.Components.Schemas[tc.schema]
			require.NotNil(t, ref, "schema %s", tc.schema)
			var props []string
			for name := range ref.Value.Properties {
				if !slices.Contains(tc.readElsewhere, name) {
					props = append(props, name)
				}
			}
			slices.Sort(props)
			assert.Equal(t, props, jsonNames(tc.shape))
		})
	}
}

// jsonNames lists a struct's JSON field names, sorted.
func jsonNames(v any) []string {
	var names []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		if name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
