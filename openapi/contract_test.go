package openapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
			diffs = append(diffs, responseDiffs(op, &off, offOp)...)
			for _, d := range setDiff(ourResponses(op), offOp.responses()) {
				diffs = append(diffs, contractDiff{op.OperationID, "response", d.name, d.side})
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

// comparedStatus reports whether a response status is compared between the
// documents: the success answers and the on-chain flow's 465-468, which
// decide what a client decodes as a result. Other error statuses (429, 500,
// 503, ...) are described here for every operation and decoded alike.
func comparedStatus(code string) bool {
	return strings.HasPrefix(code, "2") || code == "465" || code == "466" || code == "467" || code == "468"
}

// ourResponses are the compared response statuses of one of our operations.
func ourResponses(op *openapi3.Operation) map[string]bool {
	m := map[string]bool{}
	if op.Responses == nil {
		return m
	}
	for code := range op.Responses.Map() {
		if comparedStatus(code) {
			m[code] = true
		}
	}
	return m
}

// responses are the compared response statuses of an official operation.
func (o officialOp) responses() map[string]bool {
	m := map[string]bool{}
	for code := range o.Responses {
		if comparedStatus(code) {
			m[code] = true
		}
	}
	return m
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
	Parameters []officialParam `json:"parameters"`
	Responses  map[string]struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
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
		typed := map[string]map[string]bool{}
		d.collectPropTypes(mt.Schema, typed, 0)
		for name := range typed {
			props[name] = true
		}
	}
	sort.Strings(types)
	return props, types
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

// responseDiffs compares the JSON success answers (2xx) both documents give a
// schema with properties. The SDK decodes only what it needs and tolerates
// the rest, so a property the official document has and ours leaves out is
// no difference; two are: a property only ours describes
// ("response-property"), and a property both describe whose JSON types
// differ ("response-type", e.g. an integer id we leave untyped). Properties
// are those of the top level, over every oneOf/anyOf/allOf branch.
func responseDiffs(op *openapi3.Operation, off *officialDoc, offOp officialOp) []contractDiff {
	var out []contractDiff
	if op.Responses == nil {
		return nil
	}
	for _, status := range op.Responses.Keys() {
		if !strings.HasPrefix(status, "2") {
			continue
		}
		ref := op.Responses.Value(status)
		offResp, ok := offOp.Responses[status]
		if ref == nil || ref.Value == nil || !ok {
			continue
		}
		ourMT, ok1 := ref.Value.Content["application/json"]
		offMT, ok2 := offResp.Content["application/json"]
		if !ok1 || !ok2 || ourMT == nil {
			continue
		}
		ours := map[string]map[string]bool{}
		collectOurTypes(ourMT.Schema, ours, 0)
		official := map[string]map[string]bool{}
		off.collectPropTypes(offMT.Schema, official, 0)
		if len(official) == 0 {
			continue // the official answer is undescribed ({}): nothing to compare
		}
		for _, name := range sortedKeys(keysOf(ours)) {
			offSet, ok := official[name]
			if !ok {
				out = append(out, contractDiff{op.OperationID, "response-property", status + " " + name, "is in ours only"})
				continue
			}
			ourT, offT := strings.Join(sortedKeys(ours[name]), ","), strings.Join(sortedKeys(offSet), ",")
			if offT != "" && ourT != offT {
				out = append(out, contractDiff{op.OperationID, "response-type", status + " " + name,
					fmt.Sprintf("is %q in ours, %q in the official document", ourT, offT)})
			}
		}
	}
	return out
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// collectOurTypes maps each top-level property name to the JSON types it
// may have (null left out), over every branch.
func collectOurTypes(ref *openapi3.SchemaRef, into map[string]map[string]bool, depth int) {
	if ref == nil || ref.Value == nil || depth > 8 {
		return
	}
	for name, p := range ref.Value.Properties {
		if into[name] == nil {
			into[name] = map[string]bool{}
		}
		if p != nil && p.Value != nil && p.Value.Type != nil {
			for _, t := range p.Value.Type.Slice() {
				if t != "null" {
					into[name][t] = true
				}
			}
		}
	}
	for _, list := range []openapi3.SchemaRefs{ref.Value.AllOf, ref.Value.AnyOf, ref.Value.OneOf} {
		for _, sub := range list {
			collectOurTypes(sub, into, depth+1)
		}
	}
}

// collectPropTypes is collectOurTypes for the official document.
func (d *officialDoc) collectPropTypes(raw json.RawMessage, into map[string]map[string]bool, depth int) {
	if len(raw) == 0 || depth > 8 {
		return
	}
	var s officialSchema
	if json.Unmarshal(raw, &s) != nil {
		return
	}
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		d.collectPropTypes(d.Components.Schemas[name], into, depth+1)
	}
	for name, p := range s.Properties {
		if into[name] == nil {
			into[name] = map[string]bool{}
		}
		if t := d.propTypes(p, 0); t != "" {
			for _, x := range strings.Split(t, ",") {
				into[name][x] = true
			}
		}
	}
	for _, list := range [][]json.RawMessage{s.AllOf, s.AnyOf, s.OneOf} {
		for _, sub := range list {
			d.collectPropTypes(sub, into, depth+1)
		}
	}
}

// propTypes is the JSON types an official property schema allows, null
// left out, sorted and comma-joined; "" when it names none ($ref to an
// object, or no type at all).
func (d *officialDoc) propTypes(raw json.RawMessage, depth int) string {
	var s struct {
		Ref   string            `json:"$ref"`
		Type  json.RawMessage   `json:"type"`
		AnyOf []json.RawMessage `json:"anyOf"`
		OneOf []json.RawMessage `json:"oneOf"`
	}
	if depth > 8 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	set := map[string]bool{}
	var one string
	var many []string
	if json.Unmarshal(s.Type, &one) == nil && one != "" {
		set[one] = true
	} else if json.Unmarshal(s.Type, &many) == nil {
		for _, t := range many {
			set[t] = true
		}
	}
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		if t := d.propTypes(d.Components.Schemas[name], depth+1); t != "" {
			for _, x := range strings.Split(t, ",") {
				set[x] = true
			}
		}
	}
	for _, sub := range append(s.AnyOf, s.OneOf...) {
		if t := d.propTypes(sub, depth+1); t != "" {
			for _, x := range strings.Split(t, ",") {
				set[x] = true
			}
		}
	}
	delete(set, "null")
	return strings.Join(sortedKeys(set), ",")
}
