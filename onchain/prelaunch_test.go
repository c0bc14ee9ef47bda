package onchain_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// TestPreLaunchScriptUpgradeIsAChange: the upgrade to the latest official
// script takes both phases on the simulated chain like any compose-hash
// change (official Go cvms_compose.go: phase 2 repeats the call with
// X-Compose-Hash and X-Transaction-Hash). The SDK cannot rebuild the
// server's new script, so the hash is registered only under the named
// opt-out; by default nothing is signed.
func TestPreLaunchScriptUpgradeIsAChange(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)

	refused := e.updater(e.owner, nil)
	_, err := refused.Run(ctx, e.cvm.ID, onchain.PreLaunchScriptUpgradeChange(e.client, e.cvm.ID))
	require.ErrorContains(t, err, "InsecureTrustAPIComposeHash")
	_, before, ok := e.srv.AppCompose(e.cvm.ID)
	require.True(t, ok)

	rec := &recorder{}
	u := e.updater(e.owner, rec)
	u.InsecureTrustAPIComposeHash = true
	out, err := u.Run(ctx, e.cvm.ID, onchain.PreLaunchScriptUpgradeChange(e.client, e.cvm.ID))
	require.NoError(t, err)
	require.NotEqual(t, before, out.ComposeHash)
	require.True(t, out.OnChain)
	require.Equal(t, onchain.StepLive, rec.steps()[len(rec.steps())-1])
	ac, hash, ok := e.srv.AppCompose(e.cvm.ID)
	require.True(t, ok)
	latest := phalatest.OfficialPreLaunchScripts()[len(phalatest.OfficialPreLaunchScripts())-1]
	require.Equal(t, latest, ac["pre_launch_script"])
	require.Equal(t, out.ComposeHash, hash, "the CVM runs the registered hash")
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	require.NoError(t, app.VerifyRegistration(ctx, out.ComposeHash, out.TxHash.Hex()))
}
