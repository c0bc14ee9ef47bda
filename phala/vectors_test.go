package phala

import (
	"encoding/json"
	"os"
	"testing"
)

// knownAnswers mirrors testdata/vectors.json: answers computed with the
// official JavaScript packages.
type knownAnswers struct {
	EncryptEnv struct {
		RemotePrivateKey    string `json:"remote_private_key"`
		RemotePublicKey     string `json:"remote_public_key"`
		EphemeralPrivateKey string `json:"ephemeral_private_key"`
		EphemeralPublicKey  string `json:"ephemeral_public_key"`
		SharedSecret        string `json:"shared_secret"`
		IV                  string `json:"iv"`
		Plaintext           string `json:"plaintext"`
		EncryptedEnv        string `json:"encrypted_env"`
	} `json:"encrypt_env_known_answer"`
	PubkeySig struct {
		PublicKey string `json:"public_key"`
		AppID     string `json:"app_id"`
		Signature string `json:"signature"`
		Signer    string `json:"recovered_signer_compressed"`
	} `json:"env_pubkey_signature_legacy"`
	ComposeHash []struct {
		AppCompose           json.RawMessage `json:"app_compose"`
		DstackForm           string          `json:"dstack_form"`
		DstackFormNormalized string          `json:"dstack_form_normalized"`
		DumpFormText         string          `json:"dump_form_text"`
		DumpFormHash         string          `json:"dump_form_hash"`
	} `json:"compose_hash"`
}

func loadKnownAnswers(t testing.TB) *knownAnswers {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var ka knownAnswers
	if err := json.Unmarshal(data, &ka); err != nil {
		t.Fatal(err)
	}
	if len(ka.ComposeHash) == 0 || ka.EncryptEnv.EncryptedEnv == "" || ka.PubkeySig.Signature == "" {
		t.Fatal("testdata/vectors.json lacks expected sections")
	}
	return &ka
}
