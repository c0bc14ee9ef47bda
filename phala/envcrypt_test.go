package phala

import (
	"bytes"
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/phalacloud/go-sdk/internal/envcipher"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decryptEnvVars is the receiving side (what the dstack guest does), for
// tests only.
func decryptEnvVars(t testing.TB, encryptedHex string, remotePriv *ecdh.PrivateKey) ([]EnvVar, []byte) {
	t.Helper()
	plain, err := envcipher.Open(remotePriv, encryptedHex)
	require.NoError(t, err)
	vars, err := envcipher.Decode(plain)
	require.NoError(t, err)
	out := make([]EnvVar, len(vars))
	for i, v := range vars {
		out[i] = EnvVar{v.Key, v.Value}
	}
	return out, plain
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestEncryptEnvVarsKnownAnswer(t *testing.T) {
	ka := loadKnownAnswers(t).EncryptEnv
	rnd := bytes.NewReader(append(mustHex(t, ka.EphemeralPrivateKey), mustHex(t, ka.IV)...))
	got, err := encryptEnvVars([]EnvVar{{"FOO", "bar"}}, ka.RemotePublicKey, rnd)
	require.NoError(t, err)
	assert.Equal(t, ka.EncryptedEnv, got)
	assert.Equal(t, ka.Plaintext, string(envPlaintext([]EnvVar{{"FOO", "bar"}})))

	// 0x prefix accepted, same answer
	rnd = bytes.NewReader(append(mustHex(t, ka.EphemeralPrivateKey), mustHex(t, ka.IV)...))
	got, err = encryptEnvVars([]EnvVar{{"FOO", "bar"}}, "0x"+strings.ToUpper(ka.RemotePublicKey), rnd)
	require.NoError(t, err)
	assert.Equal(t, ka.EncryptedEnv, got)
}

func TestEncryptEnvVarsRoundTrip(t *testing.T) {
	priv, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{0x42}, 32))
	require.NoError(t, err)
	pub := hex.EncodeToString(priv.PublicKey().Bytes())
	envs := []EnvVar{{"Z", "last<>&\u2028"}, {"A_1", "multi\nline \"quoted\" \\ é 😀"}, {"_", ""}, {"CTRL", "\x00\x1f\x7f"}}
	a, err := audited(EncryptEnvVars(secretEnvs(envs), pub))
	require.NoError(t, err)
	b, err := audited(EncryptEnvVars(secretEnvs(envs), pub))
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "fresh ephemeral key and IV per call")
	assert.Equal(t, strings.ToLower(a), a)
	got, plain := decryptEnvVars(t, a, priv)
	assert.Equal(t, envs, got, "order and content preserved")
	assert.Contains(t, string(plain), `"last<>&`+"\u2028"+`"`, "no HTML escaping")
	assert.Equal(t, []string{"Z", "A_1", "_", "CTRL"}, EnvKeys(envs))
}

func TestEncryptEnvVarsRefusals(t *testing.T) {
	priv, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	pub := hex.EncodeToString(priv.PublicKey().Bytes())
	secret := "s3cr3t-VALUE"
	many := make([]EnvVar, MaxEnvVars+1)
	for i := range many {
		many[i] = EnvVar{fmt.Sprintf("K%d", i), secret}
	}
	big := make([]EnvVar, 9)
	for i := range big {
		big[i] = EnvVar{fmt.Sprintf("K%d", i), secret + strings.Repeat("x", MaxEnvValueBytes-len(secret))}
	}
	cases := []struct {
		name   string
		envs   []EnvVar
		pub    string
		reason string
	}{
		{"empty", nil, pub, "empty"},
		{"bad key start digit", []EnvVar{{"1A", secret}}, pub, "does not match"},
		{"bad key dash", []EnvVar{{"A-B", secret}}, pub, "does not match"},
		{"empty key", []EnvVar{{"", secret}}, pub, "does not match"},
		{"key with space", []EnvVar{{"A B", secret}}, pub, "does not match"},
		{"duplicate", []EnvVar{{"A", secret}, {"B", secret}, {"A", secret}}, pub, "repeats envs[0]"},
		{"key too long", []EnvVar{{strings.Repeat("K", 256), secret}}, pub, "256 bytes"},
		{"value too long", []EnvVar{{"A", secret + strings.Repeat("v", MaxEnvValueBytes)}}, pub, "limit is 131072"},
		{"value not utf8", []EnvVar{{"A", secret + "\xff"}}, pub, "UTF-8"},
		{"too many", many, pub, "1025 variables"},
		{"too big in total", big, pub, "total"},
		{"pub short", []EnvVar{{"A", secret}}, pub[:62], "32 bytes"},
		{"pub long", []EnvVar{{"A", secret}}, pub + "00", "32 bytes"},
		{"pub not hex", []EnvVar{{"A", secret}}, "zz" + pub[2:], "hexadecimal"},
		{"pub double prefix", []EnvVar{{"A", secret}}, "0x0x" + pub[4:], ""},
		{"pub zero (low order)", []EnvVar{{"A", secret}}, strings.Repeat("00", 32), "low-order"},
		{"pub order 8 point", []EnvVar{{"A", secret}}, "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", "low-order"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := audited(EncryptEnvVars(secretEnvs(c.envs), c.pub))
			require.Error(t, err)
			assert.Empty(t, out)
			assert.ErrorIs(t, err, ErrInvalidArgument)
			var iae *InvalidArgumentError
			require.ErrorAs(t, err, &iae)
			assert.Contains(t, err.Error(), c.reason)
			assert.NotContains(t, err.Error(), secret)
		})
	}
	// the limit itself is accepted
	_, err = audited(EncryptEnvVars(secretEnvs([]EnvVar{{strings.Repeat("K", 255), "v"}}), pub))
	assert.NoError(t, err, "255-byte key is allowed")
}

func TestEnvVarRedaction(t *testing.T) {
	secret := "hunter2-secret"
	e := EnvVar{Key: "PASSWORD", Value: secret}
	type wrapper struct {
		Env  EnvVar
		Envs []EnvVar
		Ptr  *EnvVar
	}
	w := wrapper{e, []EnvVar{e}, &e}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
		for _, arg := range []any{e, &e, w, []EnvVar{e}} {
			out := fmt.Sprintf(verb, arg)
			assert.NotContains(t, out, secret, "%s of %T", verb, arg)
			assert.NotContains(t, out, hex.EncodeToString([]byte(secret)), "%s of %T", verb, arg)
		}
	}
	assert.Equal(t, "PASSWORD=[REDACTED]", fmt.Sprint(e))
	assert.Equal(t, `phala.EnvVar{Key:"PASSWORD", Value:"[REDACTED]"}`, fmt.Sprintf("%#v", e))

	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("x", "env", e, "envs", []EnvVar{e})
	logger = slog.New(slog.NewTextHandler(&buf, nil))
	logger.Info("x", "env", e, "ptr", &e)
	assert.NotContains(t, buf.String(), secret)
	assert.Contains(t, buf.String(), "PASSWORD")
}

func TestEncryptEnvVarsRandomFailure(t *testing.T) {
	priv, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{9}, 32))
	require.NoError(t, err)
	_, err = encryptEnvVars([]EnvVar{{"A", "b"}}, hex.EncodeToString(priv.PublicKey().Bytes()), bytes.NewReader(make([]byte, 10)))
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrInvalidArgument))
}

func TestEnvVarMarshalJSONRedacts(t *testing.T) {
	out, err := json.Marshal([]EnvVar{{"K", "secret-value"}})
	require.NoError(t, err)
	assert.JSONEq(t, `[{"key":"K","value":"[REDACTED]"}]`, string(out))
}
