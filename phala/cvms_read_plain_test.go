package phala

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeDetailGen is decodeCVMInfo without the plain pass: the shape
// probe, then gen's decoder of that shape.
func decodeDetailGen(c *Client, body []byte) (*CVMInfo, error) {
	return c.decodeCVMInfoGen(&response{status: 200, body: body})
}

const plainDetail = `{"id":"cvm_5f0f","name":"my-app","app_id":"9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a69788796","vm_uuid":"3f25","instance_id":"instance_3f25",` +
	`"resource":{"instance_type":"tdx.medium","vcpu":2,"memory_in_gb":1.5,"disk_in_gb":40,"gpus":0},` +
	`"os":{"name":"dstack-0.5.4","version":"0.5.4","is_dev":false},"kms_type":"base",` +
	`"kms_info":{"chain_id":8453,"dstack_kms_address":"0x2f83","dstack_app_address":"0x9b5b","deployer_address":"0x6b3c",` +
	`"rpc_endpoint":"https://rpc.invalid/k","encrypted_env_pubkey":null,"id":"kms_8a7b","slug":"kms-base"},` +
	`"status":"running","progress":{"target":"update","started_at":"2026-01-05T10:00:00Z","correlation_id":"6f96"},"compose_hash":"c2d5",` +
	`"gateway":{"base_domain":"x.invalid","cname":null},"services":[],"public_logs":true,"public_sysinfo":false,` +
	`"public_tcbinfo":true,"gateway_enabled":true,"secure_time":true,"listed":true,"storage_fs":"zfs"}`

// detailVariants are bodies where struct decoding and gen's decoder could
// part: case variants, repeated objects, escapes, folding runes, numbers
// beyond float64 in skipped values, wrong types in skipped fields, nulls.
func detailVariants() []string {
	out := []string{plainDetail, `{}`, `null`, `[]`, `{"id":"x"}`, ` {"id":"cvm_x","name":"n","status":"s"} `,
		`{"id":"cvm_x","resource":null,"kms_info":null,"progress":null,"gateway":null}`,
		`{"id":"cvm_x","progress":{"correlation_id":null,"target":""}}`,
		`{"id":"cvm_x","progress":{}}`, `{"id":"cvm_x","kms_info":{"chain_id":null}}`, `{"id":"cvm_x","kms_info":{"chain_id":0}}`,
		`{"id":"cvm_x","resource":{"memory_in_gb":1e300}}`, `{"id":"cvm_x","resource":{"vcpu":2.5}}`,
		`{"id":"cvm_x","resource":{"vcpu":99999999999999999999}}`,
	}
	for _, mut := range [][2]string{
		{`"status":"running"`, `"status":"running","Status":"x"`},
		{`"status":"running"`, `"STATUS":"x","status":"running"`},
		{`"vcpu":2`, `"vcpu":2,"VCPU":3`},
		{`"resource":{`, `"resource":{"vcpu":9},"resource":{`},
		{`"kms_info":{`, `"kms_info":{"slug":"first"},"kms_info":{`},
		{`"progress":{`, `"progress":{"target":"a"},"progress":{`},
		{`"gateway":{`, `"gateway":{"a":1},"gateway":{`},
		{`"status":"running"`, `"st\u0061tus":"x","status":"running"`},
		{`"status":"running"`, `"status":"running","st\u0061tus":"x"`},
		{`"name":"my-app"`, `"name":"my-app","nam\u0065":"y"`},
		{`"slug":"kms-base"`, `"slug":"kms-base","\u017flug":"x"`},
		{`"slug":"kms-base"`, `"ſlug":"x","slug":"kms-base"`},
		{`"kms_type":"base"`, `"kms_type":"base","\u212ams_type":"x"`},
		{`"kms_type":"base"`, `"kms_type":"base","Kms_type":"x"`},
		{`"services":[]`, `"services":[1e400]`},
		{`"services":[]`, `"services":[` + strings.Repeat("9", 400) + `]`},
		{`"services":[]`, `"services":[1.5e3]`},
		{`"cname":null`, `"cname":1e999`},
		{`"gateway":{"base_domain":"x.invalid","cname":null}`, `"gateway":"x"`},
		{`"gateway":{"base_domain":"x.invalid","cname":null}`, `"gateway":[]`},
		{`"gateway_enabled":true`, `"gateway_enabled":"yes"`},
		{`"storage_fs":"zfs"`, `"storage_fs":1`},
		{`"public_logs":true`, `"public_logs":null`},
		{`"id":"cvm_5f0f"`, `"id":null`},
		{`"id":"cvm_5f0f"`, `"id":"cvm_é"`},
		{`"name":"my-app"`, `"name":"\ud800"`},
		{`"name":"my-app"`, "\"name\":\"a\xffb\""},
		{`"chain_id":8453`, `"chain_id":"8453"`},
		{`"started_at":"2026-01-05T10:00:00Z"`, `"started_at":5`},
		{`"correlation_id":"6f96"`, `"Correlation_Id":"6f96"`},
		{`"memory_in_gb":1.5`, `"memory_in_gb":"1.5"`},
		{`"id":"cvm_5f0f"`, `"id":4211`},
		{`"id":"cvm_5f0f"`, `"id":{}`},
		{`"id":"cvm_5f0f"`, `"id":[]`},
		{`"id":"cvm_5f0f"`, `"id":true`},
		{`"id":"cvm_5f0f"`, `"id":4211,"id":"cvm_x"`},
		{`"id":"cvm_5f0f"`, `"id":"cvm_x","id":4211`},
		{`"id":"cvm_5f0f"`, `"ID":"cvm_x"`},
		{`"id":"cvm_5f0f"`, `"Id":4211`},
		{`"id":"cvm_5f0f"`, `"id":"cvm_x","ID":4211`},
		{`"id":"cvm_5f0f",`, ``},
		{`"id":"cvm_5f0f"`, `"id":"cvm_\u0041\n"`},
		{`"id":"cvm_5f0f"`, "\"id\":\"cvm_\xff\""},
		{`"id":"cvm_5f0f"`, `"id":""`},
	} {
		out = append(out, strings.Replace(plainDetail, mut[0], mut[1], 1))
	}
	return out
}

// The plain decoder gives what the probe-then-gen decoding gives, value
// and error, for every body and API version, whether it takes the fast
// path or falls back.
func TestDecodeDetailPlainMatchesGen(t *testing.T) {
	fast := 0
	for _, v := range SupportedAPIVersions() {
		c := &Client{cfg: config{apiVersion: v}}
		for _, body := range detailVariants() {
			want, wantErr := decodeDetailGen(c, []byte(body))
			got, err := c.decodeCVMInfo(&response{status: 200, body: []byte(body)})
			if wantErr != nil {
				require.Error(t, err, body)
				assert.Equal(t, wantErr.Error(), err.Error(), body)
			} else {
				require.NoError(t, err, body)
				assert.Equal(t, want, got, body)
			}
			if _, ok := decodeDetailPlain([]byte(body)); ok {
				fast++
			}
		}
	}
	assert.Greater(t, fast, 30, "the fast path is taken for ordinary bodies")
	parsed := 0
	for _, body := range detailVariants() {
		if _, ok := parseDetail([]byte(body)); ok {
			parsed++
		}
	}
	assert.Greater(t, parsed, 8, "the hand-written parse takes ordinary bodies")
	_, ok := parseDetail([]byte(plainDetail))
	require.True(t, ok, "a real detail takes the hand-written parse")
	info, ok := decodeDetailPlain([]byte(plainDetail))
	require.True(t, ok, "a real detail takes the plain path")
	assert.Equal(t, 1536, info.MemoryMB)
}

// FuzzDetailPlain: for any body and version the plain decoder (fast path
// or fallback) and the probe-then-gen decoding agree on value or error.
func FuzzDetailPlain(f *testing.F) {
	for _, s := range detailVariants() {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
	}
	versions := SupportedAPIVersions()
	f.Fuzz(func(t *testing.T, body []byte, v uint8) {
		c := &Client{cfg: config{apiVersion: versions[int(v)%len(versions)]}}
		want, wantErr := decodeDetailGen(c, body)
		got, err := c.decodeCVMInfo(&response{status: 200, body: body})
		if (wantErr == nil) != (err == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("errors differ: gen %v, plain %v", wantErr, err)
		}
		if err == nil {
			assert.Equal(t, want, got)
		}
		checkDetailVisibility(t, c, body, want, wantErr)
	})
}

// checkDetailVisibility holds UpdateCVMVisibility's read of a detail to
// GetCVMInfo's: the same flags whenever the detail decodes; when it does
// not, either the same error or (string id, boolean flags, an error in a
// field the flags do not need) the flags an exact-key, last-wins reading
// of the top level gives.
func checkDetailVisibility(t *testing.T, c *Client, body []byte, want *CVMInfo, wantErr error) {
	t.Helper()
	got, err := c.detailVisibility(&response{status: 200, body: body})
	if wantErr == nil {
		require.NoError(t, err, string(body))
		assert.Equal(t, &CVMVisibility{PublicSysinfo: want.PublicSysinfo, PublicLogs: want.PublicLogs, PublicTcbinfo: want.PublicTcbinfo}, got, string(body))
		return
	}
	if err != nil {
		assert.Equal(t, wantErr.Error(), err.Error(), string(body))
		return
	}
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &top), string(body))
	assert.True(t, strings.HasPrefix(strings.TrimSpace(string(top["id"])), `"`), "only a string id takes the flags-only path: %s", body)
	flag := func(name string) bool {
		var v *bool
		require.NoError(t, json.Unmarshal(orNull(top[name]), &v), string(body))
		return v != nil && *v
	}
	assert.Equal(t, &CVMVisibility{PublicSysinfo: flag("public_sysinfo"), PublicLogs: flag("public_logs"), PublicTcbinfo: flag("public_tcbinfo")}, got, string(body))
}

func orNull(b json.RawMessage) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	return b
}

func TestDetailVisibilityMatchesGetCVMInfo(t *testing.T) {
	flagsOnly := 0
	for _, v := range SupportedAPIVersions() {
		c := &Client{cfg: config{apiVersion: v}}
		bodies := append(detailVariants(), `{"id":"cvm_1","public_logs":true,"resource":{"vcpu":"two"}}`,
			`{"id":"cvm_1","public_logs":"yes"}`, `{"id":"cvm_1","Public_Logs":true}`, `{"id":7,"public_logs":true,"public_tcbinfo":true}`)
		for _, body := range bodies {
			want, wantErr := decodeDetailGen(c, []byte(body))
			checkDetailVisibility(t, c, []byte(body), want, wantErr)
			if _, err := c.detailVisibility(&response{status: 200, body: []byte(body)}); wantErr != nil && err == nil {
				flagsOnly++
			}
		}
	}
	assert.Positive(t, flagsOnly, "a detail with an unrelated malformed field still gives its flags")
}

const plainVM = `{"id":4211,"name":"my-app","status":"running","vcpu":2,"memory":4096,"created_at":"2026-01-05T10:00:00Z",` +
	`"public_sysinfo":true,"public_logs":false}`

// The visibility answer's fast path reads the same three flags as the
// map decoding it replaces, whenever it does not fall back to it.
func TestVisibilityAnswerMatchesMap(t *testing.T) {
	bodies := []string{plainVM, `{}`, `null`, `[]`, `"x"`, `{"public_tcbinfo":true}`, `{"public_tcbinfo":null}`,
		`{"public_logs":"true"}`, `{"public_logs": true }`, `{"public_logs":1}`, `{"public_logs":{"a":true}}`,
		`{"public_logs":true,"public_logs":false}`, `{"public_logs":false,"Public_Logs":true}`,
		`{"PUBLIC_LOGS":true}`, `{"public_l\u006fgs":true}`, `{"public_\u017fysinfo":true}`, `{"public_ſysinfo":true}`,
		`{"public_logs":true,"x":1e400}`, `{"nested":{"public_logs":false},"public_logs":true}`}
	fast := 0
	for _, body := range bodies {
		var vm map[string]json.RawMessage
		mapErr := json.Unmarshal([]byte(body), &vm)
		sys, logs, tcb, ok := visibilityAnswer([]byte(body))
		if !ok {
			continue
		}
		fast++
		require.NoError(t, mapErr, body)
		assert.Equal(t, mapFlag(vm, "public_sysinfo"), sys, body)
		assert.Equal(t, mapFlag(vm, "public_logs"), logs, body)
		assert.Equal(t, mapFlag(vm, "public_tcbinfo"), tcb, body)
	}
	assert.Greater(t, fast, 8)
	_, _, _, ok := visibilityAnswer([]byte(plainVM))
	assert.True(t, ok, "a real answer takes the fast path")
}

// BenchmarkDecodeDetail: the 935-byte detail of the bench package through
// each of decodeCVMInfo's ways.
func BenchmarkDecodeDetail(b *testing.B) {
	body := []byte(detailForBench)
	c := &Client{cfg: config{apiVersion: DefaultAPIVersion}}
	b.Run("parseDetail", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := parseDetail(body); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("decodeDetailPlain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodeDetailPlain(body); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("gen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeDetailGen(c, body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
