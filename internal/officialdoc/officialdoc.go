// Package officialdoc provides the part of Phala Cloud's published OpenAPI
// document that the contract test compares openapi/phala-cloud.yaml with:
// the CVM configuration paths and the KMS public-key path, with every
// component they reference.
//
// The document is Phala's phala-docs/openapi.json in the
// github.com/Phala-Network/phala-cloud repository, pinned to Commit. Load
// takes it from, in order:
//
//  1. the extract kept beside the clone (../shared/reference/official-openapi-cvms.json
//     from the module root), the offline source;
//  2. the file named by the PHALA_OFFICIAL_OPENAPI environment variable (the
//     full published document or an extract);
//  3. a cache file under os.UserCacheDir()/phala-go-sdk, written by an
//     earlier download;
//  4. a download of URL, stored in that cache.
//
// Whatever the source, Extract cuts the same paths out of it and its
// SHA-256 must equal ExtractSHA256: the shared extract and the full
// published document give the same bytes, and a changed or corrupt
// document is refused.
package officialdoc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// Commit is the phala-cloud commit whose phala-docs/openapi.json is used;
// the shared extract was cut from it (its x-extract-notes say so).
const Commit = "06ddb65147907ec5e801ba8cdfca1cad9bd81d9e"

// URL is where the pinned document is published.
const URL = "https://raw.githubusercontent.com/Phala-Network/phala-cloud/" + Commit + "/phala-docs/openapi.json"

// ExtractSHA256 is the hex SHA-256 of Extract's output for the document at
// Commit. It pins the content the contract test reads (the selected path
// items, byte for byte after canonical re-encoding, and their components),
// so it is the same for the shared extract and for the full published
// document.
const ExtractSHA256 = "ab0dc7160e415c0cde74eb86049405c7d0fec47d9c0be8bb7d216ba74eeb1862"

// EnvFile names a local copy of the document to use when the shared
// extract is absent (no download then).
const EnvFile = "PHALA_OFFICIAL_OPENAPI"

// SharedPath is the shared extract, relative to the module root.
const SharedPath = "../shared/reference/official-openapi-cvms.json"

// Paths are the path items Extract keeps: those of the shared extract.
var Paths = []string{
	"/api/v1/cvms/{cvm_id}",
	"/api/v1/cvms/{cvm_id}/attestation",
	"/api/v1/cvms/{cvm_id}/available-os-images",
	"/api/v1/cvms/{cvm_id}/commit-update",
	"/api/v1/cvms/{cvm_id}/compose_file",
	"/api/v1/cvms/{cvm_id}/compose_file/provision",
	"/api/v1/cvms/{cvm_id}/docker-compose",
	"/api/v1/cvms/{cvm_id}/docker-compose.yml",
	"/api/v1/cvms/{cvm_id}/envs",
	"/api/v1/cvms/{cvm_id}/listed",
	"/api/v1/cvms/{cvm_id}/os-image",
	"/api/v1/cvms/{cvm_id}/pre-launch-script",
	"/api/v1/cvms/{cvm_id}/resources",
	"/api/v1/cvms/{cvm_id}/state",
	"/api/v1/cvms/{cvm_id}/visibility",
	"/api/v1/kms/{kms_id}/pubkey/{app_id}",
}

// MaxSize bounds a downloaded document: 32 MiB (the pinned one is about
// 1.3 MB).
const MaxSize = 32 << 20

// ErrUnavailable is what Load's error matches when no source had the
// document (no shared extract, no EnvFile, no cache, and the download
// failed). A document that is there but does not match ExtractSHA256 is a
// different error.
var ErrUnavailable = errors.New("officialdoc: the official OpenAPI document is not available")

// HowToProvide says how to make the document available; errors matching
// ErrUnavailable carry it.
func HowToProvide(cacheFile string) string {
	return fmt.Sprintf("provide it in one of these ways: keep the extract at %s (beside the clone); "+
		"or download %s and set %s=/path/to/openapi.json; or save that file as %s; "+
		"or allow the test to reach raw.githubusercontent.com", SharedPath, URL, EnvFile, cacheFile)
}

// Source tells Load where to look; the zero value is not useful, see
// Default.
type Source struct {
	SharedFile string       // the shared extract ("" skips it)
	EnvFile    string       // a local copy named by the environment ("" skips it)
	CacheFile  string       // the download cache ("" disables download and cache)
	URL        string       // where to download from
	WantSHA256 string       // the pinned hex SHA-256 of the extract
	Client     *http.Client // for the download; nil means a client with a 60 s timeout
}

// Default is the Source the contract test uses: the shared extract beside
// moduleRoot (the module root as the caller sees it, e.g. ".." from a
// package folder), EnvFile from the environment, the cache under
// os.UserCacheDir() and the download from URL.
func Default(moduleRoot string) Source {
	cache := ""
	if base, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(base, "phala-go-sdk", "official-openapi-"+Commit[:12]+".json")
	}
	return Source{
		SharedFile: filepath.Join(moduleRoot, SharedPath),
		EnvFile:    os.Getenv(EnvFile),
		CacheFile:  cache,
		URL:        URL,
		WantSHA256: ExtractSHA256,
	}
}

// Load returns the extract (Extract's output, checked against
// src.WantSHA256) and a description of where it came from. Errors: one
// matching ErrUnavailable (with HowToProvide) when no source had the
// document; a mismatch or parse error when a source had a different
// document (a wrong download is neither cached nor used).
func Load(ctx context.Context, src Source) (extract []byte, from string, err error) {
	for _, f := range []struct{ path, what string }{{src.SharedFile, "shared extract"}, {src.EnvFile, EnvFile}} {
		if f.path == "" {
			continue
		}
		data, err := os.ReadFile(f.path)
		if errors.Is(err, os.ErrNotExist) && f.what == "shared extract" {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("officialdoc: %s: %w", f.what, err)
		}
		ex, err := verified(data, src.WantSHA256)
		if err != nil {
			return nil, "", fmt.Errorf("officialdoc: %s %s: %w", f.what, f.path, err)
		}
		return ex, f.what + " " + f.path, nil
	}
	if src.CacheFile == "" {
		return nil, "", fmt.Errorf("%w (no cache folder); %s", ErrUnavailable, HowToProvide("<cache folder>"))
	}
	if data, err := os.ReadFile(src.CacheFile); err == nil {
		if ex, err := verified(data, src.WantSHA256); err == nil {
			return ex, "cache " + src.CacheFile, nil
		}
		// A stale or damaged cache file: download again.
	}
	data, err := download(ctx, src)
	if err != nil {
		return nil, "", fmt.Errorf("%w: download %s: %v; %s", ErrUnavailable, src.URL, err, HowToProvide(src.CacheFile))
	}
	ex, err := verified(data, src.WantSHA256)
	if err != nil {
		return nil, "", fmt.Errorf("officialdoc: downloaded %s: %w", src.URL, err)
	}
	if err := writeAtomic(src.CacheFile, data); err != nil {
		return nil, "", fmt.Errorf("officialdoc: cache: %w", err)
	}
	return ex, "download " + src.URL, nil
}

func verified(doc []byte, want string) ([]byte, error) {
	ex, err := Extract(doc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(ex)
	if got := hex.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("extract SHA-256 %s, want %s (not the document at commit %s)", got, want, Commit)
	}
	return ex, nil
}

func download(ctx context.Context, src Source) ([]byte, error) {
	client := src.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	return data, nil
}

// writeAtomic writes data to path through a temporary file and a rename,
// so that parallel test binaries never read half a file.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

var refRE = regexp.MustCompile(`^#/components/([^/]+)/([^/]+)$`)

// Extract cuts Paths out of an OpenAPI document (the full published one or
// an extract of it) with every component they reference, transitively, and
// components.securitySchemes whole; it returns them as canonical JSON
// (object keys sorted, numbers as written, no insignificant space), so the
// same content always gives the same bytes. A path of Paths missing from
// the document is an error.
func Extract(doc []byte) ([]byte, error) {
	var d struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]json.RawMessage            `json:"paths"`
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("not an OpenAPI JSON document: %w", err)
	}
	paths := map[string]any{}
	var queue []any
	for _, p := range Paths {
		raw, ok := d.Paths[p]
		if !ok {
			return nil, fmt.Errorf("path %s is missing", p)
		}
		v, err := decode(raw)
		if err != nil {
			return nil, fmt.Errorf("path %s: %w", p, err)
		}
		paths[p] = v
		queue = append(queue, v)
	}
	comps := map[string]map[string]any{}
	if ss := d.Components["securitySchemes"]; len(ss) > 0 {
		comps["securitySchemes"] = map[string]any{}
		for name, raw := range ss {
			v, err := decode(raw)
			if err != nil {
				return nil, fmt.Errorf("securitySchemes %s: %w", name, err)
			}
			comps["securitySchemes"][name] = v
		}
	}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, ref := range refs(v) {
			m := refRE.FindStringSubmatch(ref)
			if m == nil {
				continue // not a component (none in the pinned document)
			}
			kind, name := m[1], m[2]
			if _, done := comps[kind][name]; done {
				continue
			}
			raw, ok := d.Components[kind][name]
			if !ok {
				return nil, fmt.Errorf("%s is referenced but missing", ref)
			}
			cv, err := decode(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ref, err)
			}
			if comps[kind] == nil {
				comps[kind] = map[string]any{}
			}
			comps[kind][name] = cv
			queue = append(queue, cv)
		}
	}
	out := map[string]any{"openapi": d.OpenAPI, "paths": paths, "components": comps}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func decode(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// refs lists the $ref values inside v, sorted.
func refs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if r, ok := t["$ref"].(string); ok {
				out = append(out, r)
			}
			for _, e := range t {
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	sort.Strings(out)
	return out
}
