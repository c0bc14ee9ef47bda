package onchain

import (
	"context"

	"github.com/phalacloud/go-sdk/phala"
)

// PreLaunchScriptUpgradeChange moves the CVM's pre-launch script to the
// latest official one (phala's UpgradePreLaunchScript): a compose-hash
// change, so on an on-chain KMS phase 1 answers the hash to register and
// phase 2 repeats the call with it and its transaction.
//
// The server picks the new script; the API names only its hash
// (GetPreLaunchScriptUpgradeStatus), never its text, so the SDK cannot
// rebuild the app-compose the 465's hash should be the hash of. The change
// has no Edit, and Updater.Run refuses to register its hash unless
// Updater.InsecureTrustAPIComposeHash is set. To approve a script you
// checked yourself, use PreLaunchScriptChange with its text instead.
func PreLaunchScriptUpgradeChange(c *phala.Client, cvmID string) Change {
	return Change{Send: func(ctx context.Context, p Phase) (*phala.UpdateResult, error) {
		return c.UpgradePreLaunchScript(ctx, cvmID, &phala.ComposeUpdateOptions{ComposeHash: p.ComposeHash, TransactionHash: p.TxHash})
	}}
}
