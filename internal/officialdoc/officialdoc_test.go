package officialdoc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharedAbsent is the skip reason of the tests that need the shared
// extract's own bytes, with how to enable them.
const sharedAbsent = SharedPath + " is absent (relative to the module root): put the official document's extract " +
	"there (its x-extract-notes say how it was cut) to run this test"

// shared reads the shared extract, or skips (these tests need its bytes to
// build documents; the contract test reports its absence).
func shared(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", SharedPath))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip(sharedAbsent)
	}
	require.NoError(t, err)
	return b
}

// fullDocument turns the extract into something shaped like the full
// published document: more paths, more schemas, other top-level keys.
func fullDocument(t *testing.T, extract []byte) []byte {
	t.Helper()
	v, err := decode(extract) // numbers kept as written
	require.NoError(t, err)
	d := v.(map[string]any)
	d["tags"] = []any{map[string]any{"name": "GPUs"}}
	d["paths"].(map[string]any)["/api/v1/teepods"] = map[string]any{"get": map[string]any{
		"responses": map[string]any{"200": map[string]any{"content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/TeepodList"}}}}}}}
	d["components"].(map[string]any)["schemas"].(map[string]any)["TeepodList"] = map[string]any{"type": "array"}
	d["components"].(map[string]any)["schemas"].(map[string]any)["Unused"] = map[string]any{"type": "object"}
	b, err := json.MarshalIndent(d, "", "    ") // other whitespace than the extract
	require.NoError(t, err)
	return b
}

func server(t *testing.T, body []byte) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if body == nil {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestSharedExtractMatchesThePin(t *testing.T) {
	ex, from, err := Load(context.Background(), Source{SharedFile: filepath.Join("..", "..", SharedPath), WantSHA256: ExtractSHA256})
	if errors.Is(err, ErrUnavailable) {
		t.Skip(sharedAbsent)
	}
	require.NoError(t, err)
	assert.Contains(t, from, "shared extract")
	var d officialShape
	require.NoError(t, json.Unmarshal(ex, &d))
	assert.Len(t, d.Paths, len(Paths))
	assert.NotEmpty(t, d.Components.Schemas)
}

type officialShape struct {
	Paths      map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

// TestExtractOfFullDocument: the full document gives the same extract as
// the shared file (extra paths, schemas and whitespace do not count).
func TestExtractOfFullDocument(t *testing.T) {
	ref := shared(t)
	want, err := Extract(ref)
	require.NoError(t, err)
	got, err := Extract(fullDocument(t, ref))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got), "the full document's extract differs from the shared one's")
	assert.NotContains(t, string(got), "TeepodList")

	// A changed path item changes the extract.
	var d map[string]any
	require.NoError(t, json.Unmarshal(ref, &d))
	delete(d["paths"].(map[string]any), Paths[0])
	b, _ := json.Marshal(d)
	_, err = Extract(b)
	require.ErrorContains(t, err, "path "+Paths[0]+" is missing")
}

func TestDownloadRightSHAIsAcceptedAndCached(t *testing.T) {
	full := fullDocument(t, shared(t))
	srv, hits := server(t, full)
	cache := filepath.Join(t.TempDir(), "sub", "official.json")
	src := Source{CacheFile: cache, URL: srv.URL + "/openapi.json", WantSHA256: ExtractSHA256, Client: srv.Client()}
	ex, from, err := Load(context.Background(), src)
	require.NoError(t, err)
	assert.Equal(t, "download "+src.URL, from)
	assert.Equal(t, int32(1), hits.Load())
	cached, err := os.ReadFile(cache)
	require.NoError(t, err)
	assert.Equal(t, full, cached, "the published document is cached as downloaded")

	// The second load reuses the cache: no request.
	ex2, from, err := Load(context.Background(), src)
	require.NoError(t, err)
	assert.Equal(t, "cache "+cache, from)
	assert.Equal(t, ex, ex2)
	assert.Equal(t, int32(1), hits.Load())

	// A damaged cache file is replaced by a new download.
	require.NoError(t, os.WriteFile(cache, []byte("{"), 0o644))
	_, from, err = Load(context.Background(), src)
	require.NoError(t, err)
	assert.Equal(t, "download "+src.URL, from)
	assert.Equal(t, int32(2), hits.Load())
}

func TestDownloadWrongSHAIsRefused(t *testing.T) {
	var d map[string]any
	require.NoError(t, json.Unmarshal(shared(t), &d))
	d["paths"].(map[string]any)[Paths[0]].(map[string]any)["x-changed"] = true
	changed, _ := json.Marshal(d)
	srv, _ := server(t, changed)
	cache := filepath.Join(t.TempDir(), "official.json")
	src := Source{CacheFile: cache, URL: srv.URL, WantSHA256: ExtractSHA256, Client: srv.Client()}
	_, _, err := Load(context.Background(), src)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrUnavailable, "a wrong document is not a missing one")
	assert.ErrorContains(t, err, "want "+ExtractSHA256)
	assert.NoFileExists(t, cache, "a refused document is not cached")

	// The right document under a different pin is refused the same way.
	srv2, _ := server(t, shared(t))
	src = Source{CacheFile: cache, URL: srv2.URL, WantSHA256: "00" + ExtractSHA256[2:], Client: srv2.Client()}
	_, _, err = Load(context.Background(), src)
	assert.ErrorContains(t, err, "extract SHA-256 "+ExtractSHA256)
	assert.NoFileExists(t, cache)
}

func TestUnavailableSaysHowToProvide(t *testing.T) {
	srv, _ := server(t, nil) // 404
	cache := filepath.Join(t.TempDir(), "official.json")
	src := Source{SharedFile: filepath.Join(t.TempDir(), "absent.json"), CacheFile: cache, URL: srv.URL, WantSHA256: ExtractSHA256, Client: srv.Client()}
	_, _, err := Load(context.Background(), src)
	require.ErrorIs(t, err, ErrUnavailable)
	for _, want := range []string{"404", SharedPath, EnvFile, URL, cache} {
		assert.ErrorContains(t, err, want)
	}

	// A named local copy is used without a download; a wrong one fails.
	full := fullDocument(t, shared(t))
	local := filepath.Join(t.TempDir(), "openapi.json")
	require.NoError(t, os.WriteFile(local, full, 0o644))
	src.EnvFile = local
	_, from, err := Load(context.Background(), src)
	require.NoError(t, err)
	assert.Equal(t, EnvFile+" "+local, from)
	require.NoError(t, os.WriteFile(local, []byte(`{"paths":{}}`), 0o644))
	_, _, err = Load(context.Background(), src)
	assert.ErrorContains(t, err, "is missing")
	assert.NotErrorIs(t, err, ErrUnavailable)
}
