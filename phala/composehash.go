package phala

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/phalacloud/go-sdk/internal/jsjson"
)

// ComposeHash returns the compose hash of an app-compose document in the
// dstack form: the lowercase hex SHA-256 of the document with its object
// keys sorted recursively (by UTF-16 code units) and serialised like
// JavaScript's compact JSON.stringify (no spaces, no escaping of <, >, & or
// non-ASCII text, numbers printed as JavaScript prints them). It matches
// getComposeHash(appCompose) of the @phala/dstack-sdk JavaScript package.
//
// appCompose is the JSON text of the document; it must be valid UTF-8 JSON
// whose top level is an object (at most 1000 levels deep). Duplicate keys
// behave like JSON.parse: the last value wins. Otherwise an error matching
// ErrInvalidArgument is returned.
//
// The hash the server returns (provision response, 465 response) is the
// authoritative one; see also ComposeHashNormalized and DumpAppComposeHash.
func ComposeHash(appCompose []byte) (string, error) {
	v, err := parseAppCompose(appCompose)
	if err != nil {
		return "", err
	}
	return sha256Hex(canonicalJSON(v, len(appCompose))), nil
}

// ComposeHashNormalized is ComposeHash after the normalisation the
// JavaScript packages apply with getComposeHash(appCompose, true): with
// runner "bash" the docker_compose_file key is dropped, with runner
// "docker-compose" the bash_script key is dropped, and a pre_launch_script
// whose value is falsy in JavaScript ("", null, false, 0) is dropped.
// Errors are those of ComposeHash.
func ComposeHashNormalized(appCompose []byte) (string, error) {
	v, err := parseAppCompose(appCompose)
	if err != nil {
		return "", err
	}
	return sha256Hex(canonicalJSON(normalizeAppCompose(v), len(appCompose))), nil
}

// DumpAppCompose returns the app-compose document in the form Phala Cloud
// serialises it (dumpAppCompose(preprocessAppCompose(x)) of the @phala/cloud
// JavaScript package): normalised as in ComposeHashNormalized, keys sorted
// recursively, indented with four spaces like JSON.stringify(x, null, 4),
// and then every occurrence of the three characters `": ` replaced by `":`
// (also inside string values, exactly as the JavaScript code does).
// Errors are those of ComposeHash.
func DumpAppCompose(appCompose []byte) ([]byte, error) {
	v, err := parseAppCompose(appCompose)
	if err != nil {
		return nil, err
	}
	return dumpJS(normalizeAppCompose(v)), nil
}

// DumpAppComposeHash returns the lowercase hex SHA-256 of
// DumpAppCompose(appCompose): the hash @phala/cloud computes for a compose
// file fetched from Phala Cloud (getHash()). Errors are those of
// ComposeHash.
func DumpAppComposeHash(appCompose []byte) (string, error) {
	out, err := DumpAppCompose(appCompose)
	if err != nil {
		return "", err
	}
	return sha256Hex(out), nil
}

// canonicalJSON is the dstack form of v: keys sorted, compact. sizeHint is
// the expected output size (the input's), reserved up front so that a large
// document is not copied while its output grows.
func canonicalJSON(v *jsjson.Value, sizeHint int) []byte {
	return v.Sorted().AppendStringify(make([]byte, 0, max(sizeHint, 64)), "")
}

func dumpJS(v *jsjson.Value) []byte {
	out := v.Sorted().Stringify("    ")
	return []byte(strings.ReplaceAll(string(out), "\": ", "\":"))
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func parseAppCompose(appCompose []byte) (*jsjson.Value, error) {
	v, err := jsjson.Parse(appCompose)
	if err != nil {
		return nil, invalidArg("appCompose", "%v", err)
	}
	if v.Kind() != jsjson.Object {
		return nil, invalidArg("appCompose", "top-level JSON value must be an object")
	}
	return v, nil
}

// normalizeAppCompose mirrors preprocessAppCompose of the JavaScript
// packages: a shallow copy with runner-specific keys and a falsy
// pre_launch_script removed.
func normalizeAppCompose(v *jsjson.Value) *jsjson.Value {
	runner, _ := v.Member("runner")
	r, isStr := runner.AsString()
	var drop []string
	if isStr && r == "bash" {
		drop = append(drop, "docker_compose_file")
	} else if isStr && r == "docker-compose" {
		drop = append(drop, "bash_script")
	}
	if pls, ok := v.Member("pre_launch_script"); ok && !pls.Truthy() {
		drop = append(drop, "pre_launch_script")
	}
	return v.Without(drop...)
}
