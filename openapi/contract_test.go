package openapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/phalacloud/go-sdk/internal/officialdoc"
	"github.com/phalacloud/go-sdk/internal/testenv"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/phalacloud/go-sdk/openapi"
	"gopkg.in/yaml.v3"
)

// contractException is one entry of openapi/contract-exceptions.yaml; operation "*"
// matches every operation.
type contractException struct {
	Operation string `yaml:"operation"`
	Kind      string `yaml:"kind"`
	Name      string `yaml:"name"`
	Why       string `yaml:"why"`
}

// A difference between our document and the official one.
type contractDiff struct {
	op, kind, name, detail string
}

func (d contractDiff) key() string { return d.op + "|" + d.kind + "|" + strings.ToLower(d.name) }

// TestContractMatchesOfficialReference compares, for every operation both documents
// describe, the path parameters, header and query parameters and request body
// property names of openapi/phala-cloud.yaml with the official reference. A
// difference fails unless openapi/contract-exceptions.yaml lists it with a reason; an
// exception that no longer matches a difference fails too, so the list stays true.
func TestContractMatchesOfficialReference(t *testing.T) {
	// The official document: the shared extract beside the clone, or the
	// published one at the pinned commit (downloaded once into a cache),
	// both checked against the pinned SHA-256 of the compared paths.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data, from, err := officialdoc.Load(ctx, officialdoc.Default(".."))
	if errors.Is(err, officialdoc.ErrUnavailable) {
		testenv.Missing(t, "contract not checked: "+err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("official document: %s (phala-cloud commit %s)", from, officialdoc.Commit)
	var off officialDoc
	if err := json.Unmarshal(data, &off); err != nil {
		t.Fatalf("parse the official document: %v", err)
	}
	ours := mustLoad(t, "openapi/phala-cloud.yaml", openapi.Spec)

	exData, err := os.ReadFile("contract-exceptions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var exFile struct {
		Exceptions []contractException `yaml:"exceptions"`
	}
	if err := yaml.Unmarshal(exData, &exFile); err != nil {
		t.Fatalf("parse contract-exceptions.yaml: %v", err)
	}
	excepted := map[string]*contractException{}
	used := map[string]bool{}
	for i, e := range exFile.Exceptions {
		if e.Operation == "" || e.Kind == "" || e.Name == "" || strings.TrimSpace(e.Why) == "" {
			t.Errorf("contract-exceptions.yaml entry %d lacks operation, kind, name or why", i+1)
		}
		excepted[contractDiff{e.Operation, e.Kind, e.Name, ""}.key()] = &exFile.Exceptions[i]
	}

	var diffs []contractDiff
	compared := 0
	pathKeys := make([]string, 0, len(ours.Paths.Map()))
	for p := range ours.Paths.Map() {
		pathKeys = append(pathKeys, p)
	}
	sort.Strings(pathKeys)
	for _, p := range pathKeys {
		item := ours.Paths.Value(p)
		offPath := officialPath(p)
		for _, method := range []string{"GET", "PUT", "POST", "PATCH", "DELETE"} {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			offOp, ok := off.operation(offPath, method)
			if !ok {
				diffs = append(diffs, contractDiff{op.OperationID, "operation", method + " " + offPath,
					"in ours, missing from the official document"})
				t.Logf("%-30s %-6s %-45s missing from the official document", op.OperationID, method, offPath)
				continue
			}
			compared++
			ourParams := ourParameters(item.Parameters, op.Parameters)
			offParams := off.parameters(offPath, offOp)
			ourBody, ourTypes := ourBodyProperties(op)
			offBody, offTypes := off.bodyProperties(offOp)
			t.Logf("%-30s %-6s %-45s params ours=%v official=%v; body %v vs %v, properties ours=%d official=%d",
				op.OperationID, method, offPath, sortedKeys(ourParams), sortedKeys(offParams),
				ourTypes, offTypes, len(ourBody), len(offBody))
			for _, kind := range []string{"path", "header", "query"} {
				for _, d := range setDiff(filterIn(ourParams, kind), filterIn(offParams, kind)) {
					diffs = append(diffs, contractDiff{op.OperationID, kind, d.name, d.side})
				}
			}
			for _, d := range setDiff(ourBody, offBody) {
				diffs = append(diffs, contractDiff{op.OperationID, "body-property", d.name, d.side})
			}
		}
	}
	t.Logf("compared %d operations present in both documents", compared)
	if compared == 0 {
		t.Error("no operation matched between the documents: the path mapping is broken")
	}
	for _, d := range diffs {
		k := d.key()
		if _, ok := excepted[k]; !ok {
			k = contractDiff{"*", d.kind, d.name, ""}.key() // an entry for every operation
		}
		if e, ok := excepted[k]; ok {
			used[k] = true
			t.Logf("excepted: %s %s %q (%s): %s", d.op, d.kind, d.name, d.detail, strings.Join(strings.Fields(e.Why), " "))
			continue
		}
		t.Errorf("%s: %s %q %s; fix the spec or add it to openapi/contract-exceptions.yaml with a reason", d.op, d.kind, d.name, d.detail)
	}
	for k, e := range excepted {
		if !used[k] {
			t.Errorf("contract-exceptions.yaml lists %s %s %q, which is no longer a difference: remove it", e.Operation, e.Kind, e.Name)
		}
	}
}

// officialPath maps one of our paths to the official template.
func officialPath(p string) string {
	r := strings.NewReplacer("{cvmId}", "{cvm_id}", "{kmsId}", "{kms_id}", "{appId}", "{app_id}")
	return "/api/v1" + r.Replace(p)
}

// Parameters are keyed "in:name", header names in lower case.
func paramKey(in, name string) string {
	if in == "header" {
		name = strings.ToLower(name)
	}
	return in + ":" + name
}

func ourParameters(lists ...openapi3.Parameters) map[string]bool {
	m := map[string]bool{}
	for _, l := range lists {
		for _, p := range l {
			if p.Value != nil {
				m[paramKey(p.Value.In, officialParamName(p.Value.In, p.Value.Name))] = true
			}
		}
	}
	return m
}

// officialParamName maps our path parameter names to the official ones, as the path is.
func officialParamName(in, name string) string {
	if in != "path" {
		return name
	}
	switch name {
	case "cvmId":
		return "cvm_id"
	case "kmsId":
		return "kms_id"
	case "appId":
		return "app_id"
	}
	return name
}

func ourBodyProperties(op *openapi3.Operation) (map[string]bool, []string) {
	props := map[string]bool{}
	var types []string
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return props, types
	}
	for ct, mt := range op.RequestBody.Value.Content {
		types = append(types, ct)
		collectOurProps(mt.Schema, props, 0)
	}
	sort.Strings(types)
	return props, types
}

func collectOurProps(ref *openapi3.SchemaRef, into map[string]bool, depth int) {
	if ref == nil || ref.Value == nil || depth > 8 {
		return
	}
	s := ref.Value
	for name := range s.Properties {
		into[name] = true
	}
	for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, sub := range list {
			collectOurProps(sub, into, depth+1)
		}
	}
}

// officialDoc is the part of the official OpenAPI 3.1 document the check reads;
// it is parsed with encoding/json rather than kin-openapi, which targets 3.0.
type officialDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]json.RawMessage `json:"schemas"`
		Parameters map[string]officialParam   `json:"parameters"`
	} `json:"components"`
}

type officialParam struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type officialOp struct {
	Parameters  []officialParam `json:"parameters"`
	RequestBody *struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type officialSchema struct {
	Ref        string                     `json:"$ref"`
	Properties map[string]json.RawMessage `json:"properties"`
	AllOf      []json.RawMessage          `json:"allOf"`
	AnyOf      []json.RawMessage          `json:"anyOf"`
	OneOf      []json.RawMessage          `json:"oneOf"`
}

func (d *officialDoc) operation(path, method string) (officialOp, bool) {
	var op officialOp
	raw, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		return op, false
	}
	return op, json.Unmarshal(raw, &op) == nil
}

func (d *officialDoc) resolveParam(p officialParam) officialParam {
	if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
		return d.Components.Parameters[name]
	}
	return p
}

func (d *officialDoc) parameters(path string, op officialOp) map[string]bool {
	m := map[string]bool{}
	var shared []officialParam
	if raw, ok := d.Paths[path]["parameters"]; ok {
		_ = json.Unmarshal(raw, &shared)
	}
	for _, p := range append(shared, op.Parameters...) {
		p = d.resolveParam(p)
		if p.Name != "" {
			m[paramKey(p.In, p.Name)] = true
		}
	}
	return m
}

func (d *officialDoc) bodyProperties(op officialOp) (map[string]bool, []string) {
	props := map[string]bool{}
	var types []string
	if op.RequestBody == nil {
		return props, types
	}
	for ct, mt := range op.RequestBody.Content {
		types = append(types, ct)
		d.collectProps(mt.Schema, props, 0)
	}
	sort.Strings(types)
	return props, types
}

func (d *officialDoc) collectProps(raw json.RawMessage, into map[string]bool, depth int) {
	if len(raw) == 0 || depth > 8 {
		return
	}
	var s officialSchema
	if json.Unmarshal(raw, &s) != nil {
		return
	}
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		d.collectProps(d.Components.Schemas[name], into, depth+1)
	}
	for name := range s.Properties {
		into[name] = true
	}
	for _, list := range [][]json.RawMessage{s.AllOf, s.AnyOf, s.OneOf} {
		for _, sub := range list {
			d.collectProps(sub, into, depth+1)
		}
	}
}

type sideDiff struct{ name, side string }

// setDiff lists names only in ours and names only in the official document.
func setDiff(ours, official map[string]bool) []sideDiff {
	var out []sideDiff
	for _, k := range sortedKeys(ours) {
		if !official[k] {
			out = append(out, sideDiff{k, "is in ours only"})
		}
	}
	for _, k := range sortedKeys(official) {
		if !ours[k] {
			out = append(out, sideDiff{k, "is in the official document only"})
		}
	}
	return out
}

// filterIn keeps the parameters of one location, by bare name.
func filterIn(params map[string]bool, in string) map[string]bool {
	m := map[string]bool{}
	for k := range params {
		if name, ok := strings.CutPrefix(k, in+":"); ok {
			m[name] = true
		}
	}
	return m
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
