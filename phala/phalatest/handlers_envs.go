package phalatest

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// decryptInto decrypts encrypted_env into ch, or returns the 400.
func (cl *call) decryptInto(ch *change, enc string) *response {
	env, err := decryptEnv(cl.cvm.envKey, enc)
	if err != nil {
		resp := cl.badRequest("", "Invalid encrypted_env: "+err.Error(), detail{"encrypted_env", err.Error()})
		body := map[string]any{}
		_ = json.Unmarshal(resp.body, &body)
		body["suggestions"] = []string{"Encrypt with the CVM's current env encryption public key (kms_info.encrypted_env_pubkey, or GET /kms/{kmsId}/pubkey/{appId} on an on-chain KMS)"}
		resp = jsonResponse(http.StatusBadRequest, body)
		return &resp
	}
	ch.env, ch.encEnv = env, enc
	ch.add("encrypted_env")
	return nil
}

func (cl *call) updateEnvs() response {
	var b struct {
		EncryptedEnv    string    `json:"encrypted_env"`
		EnvKeys         *[]string `json:"env_keys"`
		ComposeHash     *string   `json:"compose_hash"`
		TransactionHash *string   `json:"transaction_hash"`
	}
	if resp, ok := cl.resolveMutableJSON(&b); !ok {
		return resp
	}
	ch := &change{}
	if resp := cl.decryptInto(ch, b.EncryptedEnv); resp != nil {
		return *resp
	}
	if b.EnvKeys != nil && !sameSet(*b.EnvKeys, allowedEnvs(cl.cvm.appCompose)) {
		ch.allowedEnvs, ch.hasAllowed = *b.EnvKeys, true
		ch.add("allowed_envs")
	}
	// Phase-2 values travel in the body on this endpoint (headers are
	// accepted too).
	if !ch.hasAllowed && b.ComposeHash == nil && cl.unchanged(cl.cvm.rawEnv != nil && maps.Equal(ch.env, cl.cvm.rawEnv)) {
		return cl.noChange("Environment variables are unchanged")
	}
	h, tx := "", ""
	if b.ComposeHash != nil {
		h = *b.ComposeHash
	}
	if b.TransactionHash != nil {
		tx = *b.TransactionHash
	}
	if h == "" {
		h = cl.r.Header.Get("X-Compose-Hash")
	}
	if tx == "" {
		tx = cl.r.Header.Get("X-Transaction-Hash")
	}
	ch, resp := cl.gate(ch, h, tx, false)
	if resp != nil {
		return *resp
	}
	changed := ch.hasAllowed
	return cl.accepted(cl.apply(ch, true), map[string]any{"allowed_envs_changed": changed})
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func (cl *call) getKMSPubkey() response {
	kms, app := cl.params["kmsId"], strings.ToLower(cl.params["appId"])
	for _, c := range cl.s.cvms {
		if c.onChain() && (c.seed.KMSID == kms || c.seed.KMSSlug == kms) && c.seed.AppID == app {
			appRaw, _ := hexDecode(c.seed.AppID)
			pub := c.envKey.PublicKey().Bytes()
			sig := cl.s.kms.sign(envPubkeyDigest(appRaw, pub))
			return jsonResponse(http.StatusOK, map[string]any{"public_key": hexEncode(pub), "signature": hexEncode(sig)})
		}
	}
	return errorResponse(http.StatusNotFound, "", "No app "+app+" on KMS "+kms, cl.reqID, nil, nil)
}
