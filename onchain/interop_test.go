package onchain_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/nodejs"
	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/onchain/chaintest"
)

// interopScript uses the official TypeScript SDK's on-chain helpers
// (@phala/cloud 0.2.9 with viem, pinned in internal/nodejs) against the
// chain served over HTTP: it reads the hash Go registered, then registers
// its own with addComposeHash (its checkOnChainPrerequisites needs a
// multicall3 contract, which this chain lacks). addComposeHash logs the receipt's logs on
// stdout, so the answer is the line after the RESULT marker.
const interopScript = `
const fs = require("fs");
(async () => {
  const cloud = require("@phala/cloud");
  const { defineChain } = require("viem");
  const p = JSON.parse(fs.readFileSync(0, "utf8"));
  const chain = defineChain({ id: p.chainId, name: "simulated", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [p.rpcUrl] } } });
  const goSeen = await cloud.checkComposeHashAllowed({ chain, rpcUrl: p.rpcUrl, appAddress: p.app, composeHash: p.goHash });
  const tsBefore = await cloud.checkComposeHashAllowed({ chain, rpcUrl: p.rpcUrl, appAddress: p.app, composeHash: p.tsHash });
  const r = await cloud.addComposeHash({ chain, rpcUrl: p.rpcUrl, appId: p.app, composeHash: p.tsHash, privateKey: p.key, timeout: 60000 });
  process.stdout.write("\nRESULT\n" + JSON.stringify({ goSeen, tsBefore, txHash: r.transactionHash }) + "\n");
})().catch((e) => { console.error(e); process.exit(1); });
`

func TestInteropWithTypeScriptSDK(t *testing.T) {
	dir := nodejs.Install(t) // skips without node (fails with PHALA_REQUIRE_TOOLS=1)
	chain, err := chaintest.New(&chaintest.Options{ServeHTTP: true, AllowAnyDevice: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = chain.Close() })
	ctx := ctxT(t)
	rpc, err := ethclient.DialContext(ctx, chain.RPCURL)
	require.NoError(t, err)
	t.Cleanup(rpc.Close)

	goHash := strings.Repeat("1a", 32)
	tsHash := strings.Repeat("2b", 32)
	owner, err := onchain.PrivateKeySigner(chain.OwnerKey)
	require.NoError(t, err)

	// Go registers over the HTTP endpoint (a real ethclient), blocks mined
	// by AutoCommit as a dev chain would.
	stop := chain.AutoCommit(20 * time.Millisecond)
	defer stop()
	app, err := onchain.NewApp(rpc, chain.AppID())
	require.NoError(t, err)
	_, err = app.AddComposeHash(ctx, owner, goHash, &onchain.TxOptions{PollInterval: 20 * time.Millisecond})
	require.NoError(t, err)

	in, _ := json.Marshal(map[string]any{"rpcUrl": chain.RPCURL, "chainId": chain.ChainID.Int64(), "app": chain.AppContract.Hex(),
		"goHash": "0x" + goHash, "tsHash": "0x" + tsHash, "key": "0x" + chain.OwnerKey})
	out := nodejs.Run(t, dir, interopScript, in)
	_, after, ok := bytes.Cut(out, []byte("\nRESULT\n"))
	require.True(t, ok, "no RESULT line in %s", out)
	var res struct {
		GoSeen   bool   `json:"goSeen"`
		TSBefore bool   `json:"tsBefore"`
		TxHash   string `json:"txHash"`
	}
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(after), &res), "%s", after)
	t.Logf("TypeScript SDK: Go's hash allowed=%v, its own before=%v, addComposeHash tx %s", res.GoSeen, res.TSBefore, res.TxHash)
	require.True(t, res.GoSeen, "the TypeScript SDK sees what Go registered")
	require.False(t, res.TSBefore)

	// Go sees what the TypeScript SDK registered, and verifies its transaction.
	allowed, err := app.ComposeHashAllowed(ctx, tsHash)
	require.NoError(t, err)
	require.True(t, allowed, "Go sees what the TypeScript SDK registered")
	require.NoError(t, app.VerifyRegistration(ctx, tsHash, res.TxHash))
	found, err := app.FindRegistration(ctx, tsHash, nil)
	require.NoError(t, err)
	require.Equal(t, common.HexToHash(res.TxHash), found)
}
