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
// X-Compose-Hash and X-Transaction-Hash).
func TestPreLaunchScriptUpgradeIsAChange(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	rec := &recorder{}
	out, err := e.updater(e.owner, rec).Run(ctx, e.cvm.ID, onchain.PreLaunchScriptUpgradeChange(e.client, e.cvm.ID))
	require.NoError(t, err)
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
