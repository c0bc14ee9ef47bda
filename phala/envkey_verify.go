package phala

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/sha3"
)

// Validity window of a timestamped KMS public-key signature.
const (
	// EnvPublicKeySignatureMaxAge is how old a timestamped signature may be.
	EnvPublicKeySignatureMaxAge = 300 * time.Second
	// EnvPublicKeySignatureMaxSkew is how far in the future a timestamp may be.
	EnvPublicKeySignatureMaxSkew = 60 * time.Second
)

const envPubkeySigPrefix = "dstack-env-encrypt-pubkey:"

// VerifyEnvEncryptPublicKey checks the signature an on-chain KMS returns
// with an app's env-encryption public key (GET /kms/{kms}/pubkey/{app_id})
// in its legacy, untimestamped form, and returns the signer's compressed
// secp256k1 public key as lowercase "0x"-prefixed hex (68 characters).
// Compare it with the KMS's known signer before trusting publicKey.
//
// publicKey is the raw X25519 key (normally 32 bytes); signature is 65
// bytes r || s || v with v in {0, 1, 27, 28}; appID is the app id as 40 hex
// digits, optionally prefixed "0x" or "app_". The signed message is
// keccak256("dstack-env-encrypt-pubkey" || ":" || appID (20 bytes) ||
// publicKey).
//
// Errors match ErrInvalidArgument for a malformed signature or app id, or
// when no public key can be recovered. A signature over different data
// recovers a different signer rather than failing: always compare.
func VerifyEnvEncryptPublicKey(publicKey, signature []byte, appID string) (string, error) {
	app, err := parseAppIDBytes(appID)
	if err != nil {
		return "", err
	}
	msg := make([]byte, 0, len(envPubkeySigPrefix)+20+len(publicKey))
	msg = append(msg, envPubkeySigPrefix...)
	msg = append(msg, app...)
	msg = append(msg, publicKey...)
	return recoverEnvPubkeySigner(msg, signature)
}

// VerifyEnvEncryptPublicKeyAt is VerifyEnvEncryptPublicKey for the
// timestamped signature form: timestamp (Unix seconds, as returned by the
// KMS) is inserted as 8 big-endian bytes between the app id and the public
// key in the signed message. The signature is refused with a
// *SignatureTimeError when the timestamp is more than
// EnvPublicKeySignatureMaxAge before now or more than
// EnvPublicKeySignatureMaxSkew after it; otherwise errors are those of
// VerifyEnvEncryptPublicKey.
func VerifyEnvEncryptPublicKeyAt(publicKey, signature []byte, appID string, timestamp uint64, now time.Time) (string, error) {
	if len(signature) != 65 {
		return "", invalidArg("signature", "must be 65 bytes (r || s || v), got %d", len(signature))
	}
	nowSec := now.Unix()
	var age time.Duration
	switch {
	case timestamp > uint64(1<<62):
		age = -time.Duration(1 << 62)
	case nowSec < 0:
		age = -time.Duration(1 << 62)
	default:
		age = time.Duration(nowSec-int64(timestamp)) * time.Second
	}
	if age > EnvPublicKeySignatureMaxAge || age < -EnvPublicKeySignatureMaxSkew {
		return "", &SignatureTimeError{Timestamp: timestamp, Now: now, Age: age}
	}
	app, err := parseAppIDBytes(appID)
	if err != nil {
		return "", err
	}
	msg := make([]byte, 0, len(envPubkeySigPrefix)+20+8+len(publicKey))
	msg = append(msg, envPubkeySigPrefix...)
	msg = append(msg, app...)
	msg = binary.BigEndian.AppendUint64(msg, timestamp)
	msg = append(msg, publicKey...)
	return recoverEnvPubkeySigner(msg, signature)
}

func parseAppIDBytes(appID string) ([]byte, error) {
	s := appID
	switch {
	case strings.HasPrefix(s, "0x"), strings.HasPrefix(s, "0X"):
		s = s[2:]
	case strings.HasPrefix(s, "app_"):
		s = s[4:]
	}
	if len(s) != 40 {
		return nil, invalidArg("appID", "must be 20 bytes as 40 hex digits (optional 0x or app_ prefix), got %d characters", len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, invalidArg("appID", "not hexadecimal")
	}
	return b, nil
}

func recoverEnvPubkeySigner(msg, signature []byte) (string, error) {
	if len(signature) != 65 {
		return "", invalidArg("signature", "must be 65 bytes (r || s || v), got %d", len(signature))
	}
	v := signature[64]
	if v >= 27 {
		v -= 27
	}
	if v > 1 {
		return "", invalidArg("signature", "recovery byte v must be 0, 1, 27 or 28, got %d", signature[64])
	}
	h := sha3.NewLegacyKeccak256()
	h.Write(msg)
	digest := h.Sum(nil)
	// decred's compact form: header byte (27 + recovery id + 4 for a
	// compressed key) followed by r and s.
	var compact [65]byte
	compact[0] = 27 + 4 + v
	copy(compact[1:], signature[:64])
	pub, _, err := ecdsa.RecoverCompact(compact[:], digest)
	if err != nil {
		return "", invalidArg("signature", "no public key can be recovered from it")
	}
	return "0x" + hex.EncodeToString(pub.SerializeCompressed()), nil
}
