package phalatest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
)

// The official pre-launch scripts the fake knows, oldest first; the last
// is the latest. The real catalogue lives server-side (the upgrade call
// has no body); these stand in for it.
var officialPreLaunchScripts = []string{
	"#!/bin/sh\n# phala official pre-launch script v1\necho ready\n",
	"#!/bin/sh\n# phala official pre-launch script v2\nset -e\necho ready\n",
}

// OfficialPreLaunchScripts returns the official pre-launch scripts the
// server knows, oldest first; the last is what UpgradePreLaunchScript
// installs. Seed a CVM with an older one (CVMSeed.PreLaunchScript) to have
// an upgrade to make.
func OfficialPreLaunchScripts() []string { return slices.Clone(officialPreLaunchScripts) }

// scriptHash is how the fake names a script: SHA-256 of its bytes, hex
// (the real API's hash function is not documented).
func scriptHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func latestOfficialScript() string { return officialPreLaunchScripts[len(officialPreLaunchScripts)-1] }

// getPreLaunchUpgradeStatus answers GET .../pre-launch-script/upgrade-status:
// can_upgrade only for an official script that is not the latest (as the
// official SDKs document it).
func (cl *call) getPreLaunchUpgradeStatus() response {
	if resp, ok := cl.resolve(); !ok {
		return resp
	}
	cur, _ := cl.cvm.appCompose["pre_launch_script"].(string)
	var curHash any
	if cur != "" {
		curHash = scriptHash(cur)
	}
	official := slices.Contains(officialPreLaunchScripts, cur)
	latest := cur == latestOfficialScript()
	return jsonResponse(http.StatusOK, map[string]any{"current_hash": curHash,
		"latest_official_hash": scriptHash(latestOfficialScript()), "is_official": official,
		"is_latest": latest, "can_upgrade": official && !latest})
}

// upgradePreLaunchScript answers POST .../upgrade-to-latest-official: the
// latest official script replaces the current one through the same gate
// as a pre-launch-script update (465 on an on-chain KMS, then phase 2);
// already the latest is no_change. A custom script is replaced too (the
// real server's answer to that case is not documented).
func (cl *call) upgradePreLaunchScript() response {
	if resp, ok := cl.resolveMutable(); !ok {
		return resp
	}
	return cl.setPreLaunchScript(latestOfficialScript(), "Pre-launch script is already the latest official one")
}

// updateListed answers PATCH /cvms/{id}/listed: the flag is set in place
// (no restart, no compose hash change) and the VM object answered.
func (cl *call) updateListed() response {
	var b struct {
		Listed *bool `json:"listed"`
	}
	if resp, ok := cl.resolveJSON(&b); !ok {
		return resp
	}
	if b.Listed == nil {
		return jsonResponse(http.StatusUnprocessableEntity, map[string]any{"detail": []any{map[string]any{
			"loc": []any{"body", "listed"}, "msg": "Field required", "type": "missing"}}})
	}
	ch := &change{listed: b.Listed}
	ch.add("listed")
	cl.apply(ch, false) // no restart phase
	return jsonResponse(http.StatusOK, cl.cvm.vmJSON())
}
