package onchain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/phala"
)

// TestCommitWhenFinal: the multisig path waits for the signers'
// registration to be final before it commits the prepared update; a node
// without the tags commits nothing.
func TestCommitWhenFinal(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	req := phala.PatchCVMRequest{DockerComposeFile: phala.Ptr(newCompose), PrepareOnly: true}
	prepared, err := e.client.PatchCVM(ctx, e.cvm.ID, &req)
	require.NoError(t, err)
	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	reg, err := app.AddComposeHash(ctx, e.owner, prepared.ComposeHash, fastTx()) // the signers' transaction
	require.NoError(t, err)
	opts := &onchain.FinalityOptions{PollInterval: time.Millisecond}

	noTagsNode := noTags{Backend: e.chain.Client(), err: errors.New("finalized block not found")}
	_, err = onchain.CommitWhenFinal(ctx, e.client, noTagsNode, e.cvm.ID, prepared.CommitToken, prepared.ComposeHash, reg.Hash,
		onchain.FinalityFinalized, opts)
	require.ErrorIs(t, err, onchain.ErrFinalityUnavailable)
	require.Empty(t, e.srv.Applied(e.cvm.ID), "nothing committed")

	stop := e.chain.AutoCommit(2 * time.Millisecond) // the simulated chain finalizes by 32-block epochs
	defer stop()
	r, err := onchain.CommitWhenFinal(ctx, e.client, e.chain.Client(), e.cvm.ID, prepared.CommitToken, prepared.ComposeHash, reg.Hash,
		onchain.FinalityFinalized, opts)
	require.NoError(t, err)
	require.NotEmpty(t, r.CorrelationID)
	require.Len(t, e.srv.Applied(e.cvm.ID), 1)

	_, err = onchain.CommitWhenFinal(ctx, e.client, nil, e.cvm.ID, prepared.CommitToken, prepared.ComposeHash, reg.Hash, "", nil)
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
}
