package onchain

import (
	"context"

	"github.com/phalacloud/go-sdk/phala"
)

// PreLaunchScriptUpgradeChange moves the CVM's pre-launch script to the
// latest official one (phala's UpgradePreLaunchScript): a compose-hash
// change, so on an on-chain KMS phase 1 answers the hash to register and
// phase 2 repeats the call with it and its transaction.
func PreLaunchScriptUpgradeChange(c *phala.Client, cvmID string) Change {
	return func(ctx context.Context, hash, tx string) (*phala.UpdateResult, error) {
		return c.UpgradePreLaunchScript(ctx, cvmID, &phala.ComposeUpdateOptions{ComposeHash: hash, TransactionHash: tx})
	}
}
