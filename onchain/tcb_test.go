package onchain_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
)

// Issue 20 §5: the real DstackApp refuses a device whose TCB is not up to
// date when requireTcbUpToDate is set. The prediction reads the flag and
// says what it cannot know (the device's TCB status).
func TestBootPredictionReadsRequireTcbUpToDate(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)

	p, err := app.PredictBoot(ctx, e.cvm.DeviceID)
	require.NoError(t, err)
	require.True(t, p.TcbFlagKnown)
	require.False(t, p.RequireTcbUpToDate)
	require.True(t, p.CanBoot())

	_, err = app.SetRequireTcbUpToDate(ctx, e.owner, true, fastTx())
	require.NoError(t, err)
	p, err = app.PredictBoot(ctx, e.cvm.DeviceID)
	require.NoError(t, err)
	require.True(t, p.RequireTcbUpToDate, "the flag is read")
	require.True(t, p.CanBoot(), "the allow-list still passes; the TCB status is not on chain")
	ok, err := app.DeviceCanBoot(ctx, e.cvm.DeviceID)
	require.NoError(t, err)
	require.True(t, ok)

	// The Updater reports the prediction with the registration.
	out, err := e.updater(e.owner, nil).Run(ctx, e.cvm.ID, onchain.ComposeChange(e.client, e.cvm.ID, newCompose))
	require.NoError(t, err)
	require.NotNil(t, out.Boot)
	require.True(t, out.Boot.RequireTcbUpToDate)

	// A contract without the getter (a DstackApp from before the flag;
	// here the KMS contract, which has none): unknown, taken as false.
	old, err := onchain.NewApp(e.chain.Client(), e.chain.KMSContract.Hex())
	require.NoError(t, err)
	req, known, err := old.RequireTcbUpToDate(ctx)
	require.NoError(t, err)
	require.False(t, known)
	require.False(t, req)
}
