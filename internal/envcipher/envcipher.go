// Package envcipher is the receiving side of Phala Cloud's env encryption:
// what the dstack guest does with encrypted_env. The SDK only encrypts; the
// fake server, the tests and the benchmarks decrypt with this one copy.
package envcipher

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Var is one decrypted variable.
type Var struct{ Key, Value string }

// Open decrypts encrypted_env: hex (0x allowed) of ephemeral X25519 public
// key (32) || IV (12) || AES-256-GCM ciphertext and tag, the X25519 shared
// secret being the AES key. It returns the plaintext. Errors never quote
// the input.
func Open(priv *ecdh.PrivateKey, encHex string) ([]byte, error) {
	raw, err := hex.DecodeString(strings.TrimPrefix(encHex, "0x"))
	if err != nil {
		return nil, errors.New("encrypted_env is not hex")
	}
	if len(raw) < 32+12+16 {
		return nil, errors.New("encrypted_env is too short")
	}
	eph, err := ecdh.X25519().NewPublicKey(raw[:32])
	if err != nil {
		return nil, errors.New("encrypted_env does not start with an X25519 public key")
	}
	shared, err := priv.ECDH(eph)
	if err != nil {
		return nil, errors.New("key agreement failed")
	}
	block, err := aes.NewCipher(shared)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, raw[32:44], raw[44:], nil)
	if err != nil {
		return nil, errors.New("decryption failed: wrong public key or corrupted data")
	}
	return plain, nil
}

// Decode parses the plaintext {"env":[{"key":..,"value":..}]} strictly:
// unknown fields and entries without a key or a value are refused.
func Decode(plain []byte) ([]Var, error) {
	var doc struct {
		Env []struct {
			Key   *string `json:"key"`
			Value *string `json:"value"`
		} `json:"env"`
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil || doc.Env == nil {
		return nil, errors.New(`the decrypted env is not {"env":[{"key":..,"value":..}]}`)
	}
	out := make([]Var, len(doc.Env))
	for i, e := range doc.Env {
		if e.Key == nil || e.Value == nil {
			return nil, fmt.Errorf("env entry %d lacks key or value", i)
		}
		out[i] = Var{*e.Key, *e.Value}
	}
	return out, nil
}
