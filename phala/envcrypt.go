package phala

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strings"
)

// envRand is the source of the ephemeral key and the IV; tests replace it.
var envRand io.Reader = rand.Reader

// EncryptEnvVars encrypts envs for a CVM the way dstack expects and
// returns the lowercase hex string to send as encrypted_env.
//
// publicKeyHex is the app's X25519 env-encryption public key, 64 hex digits
// (an optional "0x" prefix is allowed): kms_info.encrypted_env_pubkey of the
// CVM for the central KMS, or the public_key of the KMS pubkey endpoint for
// an on-chain KMS (check it with VerifyEnvEncryptPublicKey first).
//
// The plaintext is {"env":[{"key":K,"value":V},...]} in the order given,
// serialised like JavaScript's JSON.stringify. A fresh ephemeral X25519 key
// and a random 12-byte IV are used on every call; the X25519 shared secret
// is the AES-256-GCM key. The result is
// hex(ephemeral public key (32 bytes) || IV (12) || ciphertext || tag (16)),
// so it differs on every call.
//
// The whole set replaces the CVM's current one. The error matches
// ErrInvalidArgument (an *InvalidArgumentError naming the entry) when the
// set is empty, has more than MaxEnvVars entries or more than
// MaxEnvTotalBytes in all, a key is invalid, repeated or longer than
// MaxEnvKeyBytes, a value is longer than MaxEnvValueBytes or not valid
// UTF-8, or the public key is malformed or a low-order point. Values never
// appear in errors.
func EncryptEnvVars(envs []EnvVar, publicKeyHex string) (string, error) {
	return encryptEnvVars(envs, publicKeyHex, envRand)
}

func encryptEnvVars(envs []EnvVar, publicKeyHex string, rnd io.Reader) (string, error) {
	if err := validateEnvVars(envs); err != nil {
		return "", err
	}
	remote, err := parseX25519PublicKey(publicKeyHex)
	if err != nil {
		return "", err
	}
	var seed [32 + 12]byte
	if _, err := io.ReadFull(rnd, seed[:]); err != nil {
		return "", err
	}
	// NewPrivateKey (rather than GenerateKey) so an injected reader is honoured.
	eph, err := ecdh.X25519().NewPrivateKey(seed[:32])
	if err != nil {
		return "", err
	}
	shared, err := eph.ECDH(remote)
	if err != nil {
		return "", invalidArg("publicKeyHex", "public key is a low-order point (shared secret is all zero)")
	}
	block, err := aes.NewCipher(shared)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	plain := envPlaintext(envs)
	out := make([]byte, 0, 32+12+len(plain)+gcm.Overhead())
	out = append(out, eph.PublicKey().Bytes()...)
	out = append(out, seed[32:]...)
	out = gcm.Seal(out, seed[32:], plain, nil)
	clear(plain)
	clear(seed[:])
	return hex.EncodeToString(out), nil
}

func parseX25519PublicKey(s string) (*ecdh.PublicKey, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s = s[2:]
	}
	if len(s) != 64 {
		return nil, invalidArg("publicKeyHex", "must be 32 bytes as 64 hex digits (optional 0x prefix), got %d characters", len(s))
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, invalidArg("publicKeyHex", "not hexadecimal")
	}
	pub, err := ecdh.X25519().NewPublicKey(raw)
	if err != nil {
		return nil, invalidArg("publicKeyHex", "not an X25519 public key")
	}
	return pub, nil
}
