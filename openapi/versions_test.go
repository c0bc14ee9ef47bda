package openapi_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/phalacloud/go-sdk/openapi"
	"github.com/phalacloud/go-sdk/phala"
)

var dateRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)

// TestAPIVersionsAgree: the X-Phala-Version parameter of the spec, the
// README's version section and phala.SupportedAPIVersions name the same
// versions, and the spec's example and the README name DefaultAPIVersion
// as the default. Dates the texts name besides the supported ones must be
// ones they say are refused (2026-11-11).
func TestAPIVersionsAgree(t *testing.T) {
	supported := phala.SupportedAPIVersions()
	doc := mustLoad(t, "openapi/phala-cloud.yaml", openapi.Spec)
	p := doc.Components.Parameters["PhalaVersion"].Value
	if got := p.Schema.Value.Example; got != phala.DefaultAPIVersion {
		t.Errorf("PhalaVersion example = %v, want DefaultAPIVersion %s", got, phala.DefaultAPIVersion)
	}
	if !strings.Contains(p.Description, "`"+phala.DefaultAPIVersion+"` (its default)") {
		t.Errorf("PhalaVersion description does not name %s as the default: %q", phala.DefaultAPIVersion, p.Description)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "**API versions.**")
	if !ok {
		t.Fatal("README.md has no **API versions.** section")
	}
	section, _, _ = strings.Cut(section, "\n\n")
	if !strings.Contains(section, "`DefaultAPIVersion` (`"+phala.DefaultAPIVersion+"`") {
		t.Errorf("README's version section does not give DefaultAPIVersion as %s", phala.DefaultAPIVersion)
	}
	refused := []string{"2026-11-11"}
	for name, text := range map[string]string{"PhalaVersion description": p.Description, "README version section": section} {
		named := dateRE.FindAllString(text, -1)
		for _, v := range supported {
			if !slices.Contains(named, v) {
				t.Errorf("%s does not name supported version %s", name, v)
			}
		}
		for _, v := range named {
			if !slices.Contains(supported, v) && !slices.Contains(refused, v) {
				t.Errorf("%s names %s, which SupportedAPIVersions lacks", name, v)
			}
		}
	}
}
