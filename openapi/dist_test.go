package openapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/phalacloud/go-sdk/openapi"
	"github.com/phalacloud/go-sdk/phala"
)

// TestSpecVersionIsSDKVersion: the source document, and the bundle, carry phala.Version.
func TestSpecVersionIsSDKVersion(t *testing.T) {
	src := mustLoad(t, "openapi/phala-cloud.yaml", openapi.Spec)
	if src.Info.Version != phala.Version {
		t.Errorf("openapi/phala-cloud.yaml info.version = %q, phala.Version = %q: bump them together", src.Info.Version, phala.Version)
	}
	dist := mustLoad(t, "openapi/dist/phala-cloud.json", openapi.SpecJSON)
	if dist.Info.Version != phala.Version {
		t.Errorf("openapi/dist/phala-cloud.json info.version = %q, phala.Version = %q: run 'make spec docs'", dist.Info.Version, phala.Version)
	}
	distYAML, err := os.ReadFile("dist/phala-cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if y := mustLoad(t, "openapi/dist/phala-cloud.yaml", distYAML); y.Info.Version != phala.Version {
		t.Errorf("openapi/dist/phala-cloud.yaml info.version = %q, want %q", y.Info.Version, phala.Version)
	}
}

// TestDistMatchesSource: the committed bundles say what the source says (apart from
// info.version, which the bundle takes from phala.Version), so that a stale dist fails
// `go test` even where Node is absent. `make spec-check` compares the bytes.
func TestDistMatchesSource(t *testing.T) {
	distYAML, err := os.ReadFile("dist/phala-cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := canonical(t, "openapi/phala-cloud.yaml", openapi.Spec)
	for name, data := range map[string][]byte{
		"openapi/dist/phala-cloud.json": openapi.SpecJSON,
		"openapi/dist/phala-cloud.yaml": distYAML,
	} {
		if got := canonical(t, name, data); !bytes.Equal(got, want) {
			t.Errorf("%s differs from openapi/phala-cloud.yaml: run 'make spec docs' and commit openapi/dist/", name)
		}
	}
}

// TestDistIsSelfContained: every $ref in the bundle points inside the document.
func TestDistIsSelfContained(t *testing.T) {
	var doc any
	if err := json.Unmarshal(openapi.SpecJSON, &doc); err != nil {
		t.Fatal(err)
	}
	var refs int
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs++
					if !strings.HasPrefix(s, "#/") {
						t.Errorf("external $ref %q in openapi/dist/phala-cloud.json", s)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if refs == 0 {
		t.Error("no $ref at all in the bundle: was it dereferenced?")
	}
	t.Logf("%d internal $refs", refs)
}

// TestDocsPageIsSelfContained: the rendered page embeds its scripts (--inlineBundle)
// and carries the document of this version.
func TestDocsPageIsSelfContained(t *testing.T) {
	page := string(openapi.DocsHTML)
	for _, tag := range regexp.MustCompile(`<(?:script|link)\b[^>]*>`).FindAllString(page, -1) {
		if regexp.MustCompile(`(?:src|href)=["']?(?:https?:)?//`).MatchString(tag) {
			t.Errorf("openapi/dist/index.html loads from another host: %s", tag)
		}
	}
	if !strings.Contains(page, `"version":"`+phala.Version+`"`) {
		t.Errorf("openapi/dist/index.html does not embed info.version %q: run 'make docs'", phala.Version)
	}
}

func mustLoad(t *testing.T, name string, data []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return doc
}

// canonical is the document as kin-openapi sees it, info.version blanked, as JSON.
func canonical(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	doc := mustLoad(t, name, data)
	doc.Info.Version = ""
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("marshal %s: %v", name, err)
	}
	return out
}
