package onchain_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/onchain/contracts"
	"github.com/phalacloud/go-sdk/phala"
)

// TestTestContractsAreABICompatible checks every function, event and
// error of the ABI this package speaks against the compiled test
// contracts, by selector / topic: the tests exercise the real interface.
func TestTestContractsAreABICompatible(t *testing.T) {
	for _, tc := range []struct{ ours, contract string }{{onchain.AppABI(), contracts.App}, {onchain.KMSABI(), contracts.KMS}} {
		ours, err := abi.JSON(strings.NewReader(tc.ours))
		require.NoError(t, err)
		art, err := contracts.Get(tc.contract)
		require.NoError(t, err)
		theirs, err := abi.JSON(strings.NewReader(string(art.ABI)))
		require.NoError(t, err)
		for name, m := range ours.Methods {
			got, ok := theirs.Methods[name]
			require.True(t, ok, "%s lacks %s", tc.contract, name)
			require.Equal(t, m.ID, got.ID, "%s.%s selector", tc.contract, name)
			require.Equal(t, fmt.Sprint(m.Outputs.NonIndexed()), fmt.Sprint(got.Outputs.NonIndexed()), "%s.%s outputs", tc.contract, name)
		}
		for name, ev := range ours.Events {
			got, ok := theirs.Events[name]
			require.True(t, ok, "%s lacks event %s", tc.contract, name)
			require.Equal(t, ev.ID, got.ID)
		}
		for name, e := range ours.Errors {
			if got, ok := theirs.Errors[name]; ok {
				require.Equal(t, e.ID, got.ID)
			}
		}
	}
	require.True(t, json.Valid([]byte(onchain.AppABI())))
	require.Contains(t, contracts.Compiler(), "0.8.37")
}

func TestBadInputIsTypedAndSecretFree(t *testing.T) {
	const key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	for _, bad := range []string{"", "0x12", key + "zz", strings.Repeat("g", 64), strings.Repeat("0", 64)} {
		_, err := onchain.PrivateKeySigner(bad)
		var ia *phala.InvalidArgumentError
		require.True(t, errors.As(err, &ia), "%q: %v", bad, err)
		require.Equal(t, "privateKey", ia.Field)
		if len(bad) > 8 {
			require.NotContains(t, err.Error(), bad[:8])
		}
	}
	s, err := onchain.PrivateKeySigner("0x" + key)
	require.NoError(t, err)
	require.Equal(t, "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23", s.Address().Hex())
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
		require.NotContains(t, out, key[:16])
	}

	_, err = onchain.NewApp(nil, "0x12")
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
	app, err := onchain.NewApp(noBackend{}, "app_"+strings.Repeat("a", 40))
	require.NoError(t, err)
	_, err = app.ComposeHashAllowed(t.Context(), "abc")
	var ia *phala.InvalidArgumentError
	require.True(t, errors.As(err, &ia))
	require.Equal(t, "composeHash", ia.Field)
	_, err = app.AddComposeHash(t.Context(), s, "xyz", nil)
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
	_, err = app.AddDevice(t.Context(), s, "", nil)
	require.True(t, errors.As(err, &ia))
	require.Equal(t, "deviceID", ia.Field)
}

// noBackend is a Backend that must never be called.
type noBackend struct{ onchain.Backend }
