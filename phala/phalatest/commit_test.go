package phalatest_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// keyless is a client without an API key, as a multisig signer has.
func keyless(t *testing.T, s *phalatest.Server) *phala.Client {
	t.Helper()
	t.Setenv(phala.EnvAPIKey, "")
	c, err := phala.NewClient(phala.WithBaseURL(s.URL()), phala.WithoutRetries())
	require.NoError(t, err)
	return c
}

func TestCommitCVMUpdateWithoutAPIKey(t *testing.T) {
	s, c := instantServer(t)
	signer := keyless(t, s)
	ctx := ctxT(t)
	_, oc := seeds(t, s)

	p, err := c.PatchCVM(ctx, oc.ID, &phala.PatchCVMRequest{DockerComposeFile: phala.Ptr("services:\n  y: {}\n"), VCPU: phala.Ptr(3), PrepareOnly: true})
	require.NoError(t, err)
	require.True(t, p.RequiresOnChainHash)
	require.NotEmpty(t, p.CommitToken)

	// Not registered yet: 468; then a transaction that did not register it: 467.
	_, err = signer.CommitCVMUpdate(ctx, oc.ID, p.CommitToken, p.ComposeHash, "0x"+strings.Repeat("1", 64))
	apiError(t, err, 468)
	require.ErrorIs(t, err, phala.ErrComposeHashNotAllowed)
	tx := s.RegisterComposeHash(oc.ID, p.ComposeHash)
	_, err = signer.CommitCVMUpdate(ctx, oc.ID, p.CommitToken, p.ComposeHash, "0x"+strings.Repeat("2", 64))
	apiError(t, err, 467)
	require.ErrorIs(t, err, phala.ErrTransactionVerificationFailed)
	// Another CVM's path, or another hash than the token's, is refused.
	central, _ := seeds(t, s)
	_, err = signer.CommitCVMUpdate(ctx, central.ID, p.CommitToken, p.ComposeHash, tx)
	apiError(t, err, 404)
	_, err = signer.CommitCVMUpdate(ctx, oc.ID, p.CommitToken, strings.Repeat("d", 64), tx)
	apiError(t, err, 466)
	require.Empty(t, s.Applied(oc.ID), "nothing applied by refused commits")

	done, err := signer.CommitCVMUpdate(ctx, oc.ID, p.CommitToken, p.ComposeHash, tx)
	require.NoError(t, err)
	require.NotEmpty(t, done.CorrelationID)
	applied := s.Applied(oc.ID)
	require.Len(t, applied, 1)
	require.ElementsMatch(t, []string{"docker_compose_file", "vcpu"}, applied[0].Fields)
	info, err := c.GetCVMInfo(ctx, oc.ID)
	require.NoError(t, err)
	require.Equal(t, p.ComposeHash, info.ComposeHash)

	// The token is single-use.
	_, err = signer.CommitCVMUpdate(ctx, oc.ID, p.CommitToken, p.ComposeHash, tx)
	apiError(t, err, 404)
	require.Len(t, s.Applied(oc.ID), 1)

	// A hash allowed before: "already-registered" and an empty hash (the token's).
	p2, err := c.PatchCVM(ctx, oc.ID, &phala.PatchCVMRequest{AllowedEnvs: []string{"FOO", "BAZ"}, PrepareOnly: true})
	require.NoError(t, err)
	s.RegisterComposeHash(oc.ID, p2.ComposeHash)
	_, err = signer.CommitCVMUpdate(ctx, oc.ID, p2.CommitToken, "", phala.TransactionAlreadyRegistered)
	require.NoError(t, err)
	require.Len(t, s.Applied(oc.ID), 2)
}

func TestCommitCVMUpdateRefusesBadInput(t *testing.T) {
	s := phalatest.NewTestServer(t)
	c := noRetry(s)
	ctx := ctxT(t)
	for name, args := range map[string][4]string{
		"token":       {"onchain-app", "", "", ""},
		"composeHash": {"onchain-app", "ct_x", "abc", ""},
		"txHash":      {"onchain-app", "ct_x", "", "0x12"},
		"cvmID":       {"", "ct_x", "", ""},
	} {
		_, err := c.CommitCVMUpdate(ctx, args[0], args[1], args[2], args[3])
		var ia *phala.InvalidArgumentError
		require.True(t, errors.As(err, &ia), "%s: %v", name, err)
		require.Equal(t, name, ia.Field)
		require.NotContains(t, err.Error(), "ct_x", "the token never appears in errors")
	}
	require.Empty(t, s.Requests(), "nothing was sent")
}

// fakeChain is a ChainChecker with a fixed answer book.
type fakeChain struct {
	mu      sync.Mutex
	allowed map[string]bool   // compose hash -> allowed
	txs     map[string]string // tx hash -> compose hash it registered
	asked   []string
}

func (f *fakeChain) ComposeHashAllowed(_ context.Context, chainID int64, appID, h string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "allowed "+appID+" "+h)
	return f.allowed[h], nil
}

func (f *fakeChain) TransactionRegisters(_ context.Context, chainID int64, appID, h, tx string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "tx "+tx)
	return f.txs[strings.ToLower(tx)] == h, nil
}

func TestChainCheckerDecidesPhase2(t *testing.T) {
	chain := &fakeChain{allowed: map[string]bool{}, txs: map[string]string{}}
	s, c := instantServer(t, phalatest.WithChainChecker(chain))
	ctx := ctxT(t)
	_, oc := seeds(t, s)

	res, err := c.UpdateDockerCompose(ctx, oc.ID, "services:\n  z: {}\n", nil)
	require.NoError(t, err)
	require.True(t, res.RequiresOnChainHash)
	// The server's own record no longer counts: only the chain does.
	own := s.RegisterComposeHash(oc.ID, res.ComposeHash)
	_, err = c.UpdateDockerCompose(ctx, oc.ID, "services:\n  z: {}\n", &phala.ComposeUpdateOptions{ComposeHash: res.ComposeHash, TransactionHash: own})
	apiError(t, err, 468)

	tx := "0x" + strings.Repeat("ab", 32)
	chain.mu.Lock()
	chain.allowed[res.ComposeHash] = true
	chain.mu.Unlock()
	_, err = c.UpdateDockerCompose(ctx, oc.ID, "services:\n  z: {}\n", &phala.ComposeUpdateOptions{ComposeHash: res.ComposeHash, TransactionHash: tx})
	apiError(t, err, 467)
	chain.mu.Lock()
	chain.txs[tx] = res.ComposeHash
	chain.mu.Unlock()
	ok, err := c.UpdateDockerCompose(ctx, oc.ID, "services:\n  z: {}\n", &phala.ComposeUpdateOptions{ComposeHash: res.ComposeHash, TransactionHash: tx})
	require.NoError(t, err)
	require.NotEmpty(t, ok.CorrelationID)
	require.Len(t, s.Applied(oc.ID), 1)
	chain.mu.Lock()
	require.Contains(t, chain.asked, "allowed "+oc.AppID+" "+res.ComposeHash)
	chain.mu.Unlock()

	// The prepare-only 465 reports the chain's view.
	p, err := c.PatchCVM(ctx, oc.ID, &phala.PatchCVMRequest{AllowedEnvs: []string{"FOO", "QUX"}, PrepareOnly: true})
	require.NoError(t, err)
	require.False(t, p.OnChainStatus.ComposeHashAllowed)
}
