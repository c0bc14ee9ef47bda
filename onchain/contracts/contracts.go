// Package contracts holds the compiled test contracts of the onchain module:
// TestDstackApp and TestDstackKms, our own Solidity (in this folder),
// ABI-compatible with the dstack DstackApp and DstackKms contracts, compiled
// by solc 0.8.37 (npm, pinned in package.json) into artifacts.json.
//
// Regenerate with `go generate ./contracts` in onchain/ (needs node and
// npm); `make onchain-check-generated` at the repository root fails when the
// committed artifacts.json is stale.
package contracts

//go:generate sh build.sh

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed artifacts.json
var artifactsJSON []byte

// Artifact is one compiled contract.
type Artifact struct {
	// Source is the .sol file it came from.
	Source string `json:"source"`
	// ABI is the contract's JSON ABI.
	ABI json.RawMessage `json:"abi"`
	// Bytecode is the creation code, "0x" + hex.
	Bytecode string `json:"bytecode"`
}

type artifacts struct {
	Compiler  string              `json:"compiler"`
	Contracts map[string]Artifact `json:"contracts"`
}

// Names of the compiled contracts.
const (
	App = "TestDstackApp"
	KMS = "TestDstackKms"
)

// Get returns the artifact named name (App or KMS).
func Get(name string) (Artifact, error) {
	var a artifacts
	if err := json.Unmarshal(artifactsJSON, &a); err != nil {
		return Artifact{}, fmt.Errorf("contracts: artifacts.json: %w", err)
	}
	c, ok := a.Contracts[name]
	if !ok {
		return Artifact{}, fmt.Errorf("contracts: no contract %q in artifacts.json", name)
	}
	return c, nil
}

// Compiler is the solc version string that produced the artifacts.
func Compiler() string {
	var a artifacts
	_ = json.Unmarshal(artifactsJSON, &a)
	return a.Compiler
}
