package onchain_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
)

// rpcNode is a loopback JSON-RPC node whose eth_call fails with the error
// object given, as Hardhat, geth or anvil send it.
func rpcNode(t *testing.T, errObj map[string]any) *ethclient.Client {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.Unmarshal(body, &req)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID, "error": errObj})
	}))
	t.Cleanup(hs.Close)
	c, err := ethclient.Dial(hs.URL)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// Issue 20 §5: a node that reports error.data as an object {message, data}
// (Hardhat, code -32603) gives the same typed revert as one that sends the
// hex string: the non-owner case names OwnableUnauthorizedAccount(<address>).
func TestRevertDataInEveryNodeForm(t *testing.T) {
	stranger := common.HexToAddress("0x" + strings.Repeat("5a", 20))
	data := append(crypto.Keccak256([]byte("OwnableUnauthorizedAccount(address)"))[:4], common.LeftPadBytes(stranger.Bytes(), 32)...)
	hexData := hexutil.Encode(data)
	want := "OwnableUnauthorizedAccount(" + stranger.Hex() + ")"
	hardhatMsg := "Error: VM Exception while processing transaction: reverted with custom error 'OwnableUnauthorizedAccount(\"" + stranger.Hex() + "\")'"
	for name, errObj := range map[string]map[string]any{
		"string (geth, anvil)": {"code": 3, "message": "execution reverted", "data": hexData},
		"object (Hardhat)":     {"code": -32603, "message": hardhatMsg, "data": map[string]any{"message": hardhatMsg, "data": hexData}},
		"nested object":        {"code": -32603, "message": "Internal error", "data": map[string]any{"message": "wrapped", "data": map[string]any{"data": hexData}}},
	} {
		t.Run(name, func(t *testing.T) {
			app, err := onchain.NewApp(rpcNode(t, errObj), strings.Repeat("ab", 20))
			require.NoError(t, err)
			_, err = app.Owner(ctxT(t))
			var re *onchain.RevertError
			require.True(t, errors.As(err, &re), "%v", err)
			require.ErrorIs(t, err, onchain.ErrReverted)
			require.Equal(t, want, re.Reason)
			require.Equal(t, data, re.Data)
		})
	}

	// An object without data keeps the node's message as the reason.
	app, err := onchain.NewApp(rpcNode(t, map[string]any{"code": -32603, "message": "Internal error",
		"data": map[string]any{"message": "reverted without a reason"}}), strings.Repeat("ab", 20))
	require.NoError(t, err)
	_, err = app.Owner(ctxT(t))
	var re *onchain.RevertError
	require.True(t, errors.As(err, &re), "%v", err)
	require.Equal(t, "reverted without a reason", re.Reason)
	require.Empty(t, re.Data)
}
