package phala

import (
	"context"
	"encoding/json"

	"github.com/phalacloud/go-sdk/gen"
)

// PreLaunchScriptUpgradeStatus compares a CVM's pre-launch script with
// Phala's official scripts (GET /cvms/{cvmId}/pre-launch-script/upgrade-status;
// official Go cvms_compose.go, @phala/cloud
// get_prelaunch_script_upgrade_status.ts).
type PreLaunchScriptUpgradeStatus struct {
	// CurrentHash is the hash of the CVM's script, "" when it has none.
	CurrentHash string
	// LatestOfficialHash is the hash of the latest official script.
	LatestOfficialHash string
	// IsOfficial reports whether the current script is an official one.
	IsOfficial bool
	// IsLatest reports whether it is the latest official one.
	IsLatest bool
	// CanUpgrade is true only when the CVM runs an official script that is
	// not the latest: then UpgradePreLaunchScript has something to do.
	CanUpgrade bool
}

// GetPreLaunchScriptUpgradeStatus reads whether the CVM's pre-launch script
// can move to the latest official one. Errors: an ErrInvalidArgument error
// for a malformed id; an *APIError for any answer other than 200; an
// ErrUnexpectedResponse error for a body that is not the status JSON.
func (c *Client) GetPreLaunchScriptUpgradeStatus(ctx context.Context, cvmID string) (*PreLaunchScriptUpgradeStatus, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	req, err := gen.NewGetPreLaunchScriptUpgradeStatusRequest(c.server, id, nil)
	r, err := c.do(ctx, opGetPreLaunchScriptUpgradeStatus, req, err)
	if err != nil {
		return nil, err
	}
	var g gen.PreLaunchScriptUpgradeStatus
	if err := decodeJSON(r, &g); err != nil {
		return nil, err
	}
	// The four fields the spec requires must be there: a status whose
	// can_upgrade is missing, read as false, would hide an available upgrade.
	if k := missingKey(r.body, "latest_official_hash", "is_official", "is_latest", "can_upgrade"); k != "" {
		return nil, unexpectedAnswer(r, "the status lacks "+k)
	}
	return &PreLaunchScriptUpgradeStatus{CurrentHash: deref(g.CurrentHash), LatestOfficialHash: g.LatestOfficialHash,
		IsOfficial: g.IsOfficial, IsLatest: g.IsLatest, CanUpgrade: g.CanUpgrade}, nil
}

// UpgradePreLaunchScript replaces the CVM's pre-launch script with the
// latest official one, which the server holds (POST
// /cvms/{cvmId}/pre-launch-script/upgrade-to-latest-official, no body), and
// restarts the CVM. The script is part of the app-compose, so it is a
// compose-hash change like UpdatePreLaunchScript: on an on-chain KMS the
// first call returns a result with RequiresOnChainHash and the
// ComposeHash to register (the 465 is a result, as in @phala/cloud and the
// Python SDK; the official Go SDK returns it as an error); call again with
// opts carrying that hash and the registration's transaction hash (sent as
// X-Compose-Hash / X-Transaction-Hash). The server picks the new script and
// the API never shows its text, so the 465's compose hash cannot be
// recomputed from an app-compose you approved: it is the API's word.
// onchain.PreLaunchScriptUpgradeChange runs both phases, registering that
// hash only under Updater.InsecureTrustAPIComposeHash; to sign a script you
// checked, send its text with UpdatePreLaunchScript (onchain's
// PreLaunchScriptChange). Check GetPreLaunchScriptUpgradeStatus first: the call
// has nothing to do unless CanUpgrade. Errors: an ErrInvalidArgument error
// for a malformed id or hashes (nothing is sent); an ErrUnexpectedResponse
// error for a success answer that is not the API's or a 465 without a
// valid compose hash; an *APIError for any other answer.
func (c *Client) UpgradePreLaunchScript(ctx context.Context, cvmID string, opts *ComposeUpdateOptions) (*UpdateResult, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	ch, tx, err := opts.params()
	if err != nil {
		return nil, err
	}
	params := &gen.UpgradePreLaunchScriptParams{XComposeHash: ch, XTransactionHash: tx}
	req, err := gen.NewUpgradePreLaunchScriptRequest(c.server, id, params)
	r, err := c.do(ctx, opUpgradePreLaunchScript, req, err)
	if err != nil {
		return nil, err
	}
	return toUpdateResult(r)
}

// missingKey is the first of keys the JSON object body lacks ("" when it
// has them all; the body was decoded once already, so it is an object).
func missingKey(body []byte, keys ...string) string {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(body, &m)
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return k
		}
	}
	return ""
}
