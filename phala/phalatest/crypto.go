package phalatest

import (
	"crypto/ecdh"
	"encoding/hex"
	"fmt"

	"github.com/phalacloud/go-sdk/internal/envcipher"
	"github.com/phalacloud/go-sdk/phala"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/sha3"
)

// decryptEnv opens encrypted_env: hex of ephemeral X25519 public key (32)
// || IV (12) || AES-256-GCM ciphertext and tag, the shared secret being
// the AES key. The plaintext is {"env":[{"key":..,"value":..}]}.
func decryptEnv(priv *ecdh.PrivateKey, encHex string) (map[string]string, error) {
	plain, err := envcipher.Open(priv, encHex)
	if err != nil {
		return nil, err
	}
	vars, err := envcipher.Decode(plain)
	if err != nil {
		return nil, err
	}
	// The limits phala checks before it encrypts (phala.Max*), the dstack guest's.
	if len(vars) > phala.MaxEnvVars || len(plain) > phala.MaxEnvTotalBytes {
		return nil, fmt.Errorf("the env set exceeds %d entries or 1 MiB", phala.MaxEnvVars)
	}
	out := make(map[string]string, len(vars))
	for i, v := range vars {
		if !envKey.MatchString(v.Key) || len(v.Key) > phala.MaxEnvKeyBytes {
			return nil, fmt.Errorf("env entry %d has a malformed key", i)
		}
		if len(v.Value) > phala.MaxEnvValueBytes {
			return nil, fmt.Errorf("env entry %d has a value over 128 KiB", i)
		}
		out[v.Key] = v.Value
	}
	return out, nil
}

// signer is the on-chain KMS's secp256k1 key that signs env encryption keys.
type signer struct{ key *secp256k1.PrivateKey }

// envPubkeyDigest is keccak256("dstack-env-encrypt-pubkey" + ":" + app_id(20
// bytes) + public_key(32 bytes)), the legacy (untimestamped) message.
func envPubkeyDigest(appID20, pub32 []byte) []byte {
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte("dstack-env-encrypt-pubkey:"))
	h.Write(appID20)
	h.Write(pub32)
	return h.Sum(nil)
}

// sign returns the 65-byte r||s||v signature (v = recovery id 0 or 1).
func (s signer) sign(digest []byte) []byte {
	compact := ecdsa.SignCompact(s.key, digest, false) // v||r||s, v = 27 + recid
	out := make([]byte, 65)
	copy(out, compact[1:])
	out[64] = compact[0] - 27
	return out
}

// pubHex is the compressed public key, 0x-prefixed.
func (s signer) pubHex() string {
	return "0x" + hex.EncodeToString(s.key.PubKey().SerializeCompressed())
}
