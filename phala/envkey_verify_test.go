package phala

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/sha3"
)

func TestVerifyEnvEncryptPublicKeyKnownAnswer(t *testing.T) {
	ka := loadKnownAnswers(t).PubkeySig
	pub := mustHex(t, ka.PublicKey)
	sig := mustHex(t, ka.Signature)

	for _, app := range []string{ka.AppID, "0x" + ka.AppID, "app_" + ka.AppID} {
		signer, err := audited(VerifyEnvEncryptPublicKey(pub, sig, app))
		require.NoError(t, err)
		assert.Equal(t, ka.Signer, signer)
	}
	// v as 27/28
	sig27 := append([]byte(nil), sig...)
	sig27[64] += 27
	signer, err := audited(VerifyEnvEncryptPublicKey(pub, sig27, ka.AppID))
	require.NoError(t, err)
	assert.Equal(t, ka.Signer, signer)

	// tampered public key, app id, signature: a different signer or an error
	tamperedPub := append([]byte(nil), pub...)
	tamperedPub[0] ^= 1
	signer, err = audited(VerifyEnvEncryptPublicKey(tamperedPub, sig, ka.AppID))
	if err == nil {
		assert.NotEqual(t, ka.Signer, signer)
	}
	signer, err = audited(VerifyEnvEncryptPublicKey(pub, sig, "00000000000000000000000000000000000000ff"))
	if err == nil {
		assert.NotEqual(t, ka.Signer, signer)
	}
	for _, i := range []int{0, 31, 32, 63} {
		bad := append([]byte(nil), sig...)
		bad[i] ^= 0x80
		signer, err = audited(VerifyEnvEncryptPublicKey(pub, bad, ka.AppID))
		if err == nil {
			assert.NotEqual(t, ka.Signer, signer, "byte %d", i)
		} else {
			assert.ErrorIs(t, err, ErrInvalidArgument)
		}
	}
	flipped := append([]byte(nil), sig...)
	flipped[64] ^= 1
	signer, err = audited(VerifyEnvEncryptPublicKey(pub, flipped, ka.AppID))
	if err == nil {
		assert.NotEqual(t, ka.Signer, signer)
	}

	// malformed input
	for _, c := range []struct {
		sig []byte
		app string
	}{
		{sig[:64], ka.AppID},
		{append(append([]byte(nil), sig...), 0), ka.AppID},
		{nil, ka.AppID},
		{append(append([]byte(nil), sig[:64]...), 2), ka.AppID},
		{append(append([]byte(nil), sig[:64]...), 29), ka.AppID},
		{sig, ka.AppID[:38]},
		{sig, "zz" + ka.AppID[2:]},
		{sig, ""},
		{make([]byte, 65), ka.AppID}, // r = s = 0
	} {
		_, err := audited(VerifyEnvEncryptPublicKey(pub, c.sig, c.app))
		assert.ErrorIs(t, err, ErrInvalidArgument, "sig %x app %q", c.sig, c.app)
		var iae *InvalidArgumentError
		assert.True(t, errors.As(err, &iae))
	}
}

func signEnvPubkey(t testing.TB, key *secp256k1.PrivateKey, msg []byte) []byte {
	t.Helper()
	h := sha3.NewLegacyKeccak256()
	h.Write(msg)
	compact := ecdsa.SignCompact(key, h.Sum(nil), true)
	sig := append(append([]byte(nil), compact[1:]...), compact[0]-27-4)
	require.Len(t, sig, 65)
	return sig
}

func TestVerifyEnvEncryptPublicKeyAt(t *testing.T) {
	key, err := secp256k1.GeneratePrivateKey()
	require.NoError(t, err)
	want := "0x" + hex.EncodeToString(key.PubKey().SerializeCompressed())
	pub := mustHex(t, "e33a1832c6562067ff8f844a61e51ad051f1180b66ec2551fb0251735f3ee90a")
	appHex := "0123456789abcdef0123456789abcdef01234567"
	app := mustHex(t, appHex)
	now := time.Unix(1_800_000_000, 0)
	ts := uint64(now.Unix() - 100)

	msg := append([]byte("dstack-env-encrypt-pubkey:"), app...)
	msg = binary.BigEndian.AppendUint64(msg, ts)
	msg = append(msg, pub...)
	sig := signEnvPubkey(t, key, msg)

	signer, err := audited(VerifyEnvEncryptPublicKeyAt(pub, sig, "app_"+appHex, ts, now))
	require.NoError(t, err)
	assert.Equal(t, want, signer)

	// a different timestamp in the window recovers someone else
	signer, err = audited(VerifyEnvEncryptPublicKeyAt(pub, sig, appHex, ts+1, now))
	if err == nil {
		assert.NotEqual(t, want, signer)
	}
	// the legacy form does not accept a timestamped signature
	signer, err = audited(VerifyEnvEncryptPublicKey(pub, sig, appHex))
	if err == nil {
		assert.NotEqual(t, want, signer)
	}
	// window edges
	_, err = audited(VerifyEnvEncryptPublicKeyAt(pub, sig, appHex, ts, time.Unix(int64(ts)+300, 0)))
	assert.NoError(t, err)
	_, err = audited(VerifyEnvEncryptPublicKeyAt(pub, sig, appHex, ts, time.Unix(int64(ts)+301, 0)))
	assert.ErrorIs(t, err, ErrSignatureExpired)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.NotErrorIs(t, err, ErrSignatureFromFuture)
	var ste *SignatureTimeError
	require.ErrorAs(t, err, &ste)
	assert.Equal(t, 301*time.Second, ste.Age)

	_, err = audited(VerifyEnvEncryptPublicKeyAt(pub, sig, appHex, ts, time.Unix(int64(ts)-60, 0)))
	assert.NoError(t, err)
	_, err = audited(VerifyEnvEncryptPublicKeyAt(pub, sig, appHex, ts, time.Unix(int64(ts)-61, 0)))
	assert.ErrorIs(t, err, ErrSignatureFromFuture)
	assert.NotErrorIs(t, err, ErrSignatureExpired)
	_, err = audited(VerifyEnvEncryptPublicKeyAt(pub, sig, appHex, ^uint64(0), now))
	assert.ErrorIs(t, err, ErrSignatureFromFuture)

	// wrong length
	_, err = audited(VerifyEnvEncryptPublicKeyAt(pub, sig[:64], appHex, ts, now))
	assert.ErrorIs(t, err, ErrInvalidArgument)
}
