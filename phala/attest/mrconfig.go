package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"golang.org/x/crypto/sha3"
)

// KeyProviderKind is dstack's key provider kind (dstack-types
// KeyProviderKind): the byte V2 hashes and the string V3 writes.
type KeyProviderKind string

// The key provider kinds; the V2 byte is their index (none 0 … tpm 3).
const (
	KeyProviderNone  KeyProviderKind = "none"
	KeyProviderLocal KeyProviderKind = "local"
	KeyProviderKMS   KeyProviderKind = "kms"
	KeyProviderTPM   KeyProviderKind = "tpm"
)

func (k KeyProviderKind) byteValue() (byte, bool) {
	switch k {
	case KeyProviderNone:
		return 0, true
	case KeyProviderLocal:
		return 1, true
	case KeyProviderKMS:
		return 2, true
	case KeyProviderTPM:
		return 3, true
	}
	return 0, false
}

// maxInitScripts is dstack's limit on bound init scripts (MrConfigV3).
const maxInitScripts = 5

// MRConfig holds what a dstack mr_config_id can bind. V1 uses ComposeHash
// only; V2 adds AppID, KeyProvider and KeyProviderID; V3 binds the whole
// document (Dstack-TEE/dstack dstack-types/src/mr_config.rs, and the
// official SDKs' get_mr_config_id helpers).
type MRConfig struct {
	ComposeHash   [32]byte
	AppID         []byte // 20 bytes, or empty (V3: no app identity pinned)
	KeyProvider   KeyProviderKind
	KeyProviderID []byte // KMS: the CA public key DER; local-sgx: MRENCLAVE; none: empty
	InstanceID    []byte // V3: 20 bytes, or empty when the compose sets no_instance_id
	GPUPolicyHash []byte // V3: 32 bytes when GPUs are attached, else empty
	// InitScriptHashes (V3): nil leaves the field out of the document; a
	// non-nil empty slice writes an empty list, which changes the hash.
	InitScriptHashes [][32]byte
}

// MRConfigIDV1 returns 0x01 || composeHash || 15 zero bytes.
func MRConfigIDV1(composeHash [32]byte) [48]byte {
	var id [48]byte
	id[0] = 1
	copy(id[1:], composeHash[:])
	return id
}

// MRConfigIDV2 returns 0x02 || Keccak-256(compose_hash || app_id ||
// key-provider byte || key_provider_id) || 15 zero bytes, the layout of
// legacy dstack VMMs. AppID must be 20 bytes; errors match ErrInput.
func MRConfigIDV2(c MRConfig) ([48]byte, error) {
	var id [48]byte
	kp, ok := c.KeyProvider.byteValue()
	if !ok {
		return id, fail(CheckInput, "unknown key provider %q", c.KeyProvider)
	}
	if len(c.AppID) != 20 {
		return id, fail(CheckInput, "app id is %d bytes, want 20", len(c.AppID))
	}
	h := sha3.NewLegacyKeccak256()
	h.Write(c.ComposeHash[:])
	h.Write(c.AppID)
	h.Write([]byte{kp})
	h.Write(c.KeyProviderID)
	id[0] = 2
	h.Sum(id[1:1])
	return id, nil
}

// MRConfigV3Document returns the canonical (RFC 8785) JSON of the V3
// document: keys sorted, byte fields lowercase hex without 0x, empty
// optional fields left out. Errors (wrong lengths, unknown key provider,
// more than 5 init scripts) match ErrInput.
func MRConfigV3Document(c MRConfig) ([]byte, error) {
	if _, ok := c.KeyProvider.byteValue(); !ok {
		return nil, fail(CheckInput, "unknown key provider %q", c.KeyProvider)
	}
	for _, f := range []struct {
		name string
		b    []byte
		n    int
	}{{"app_id", c.AppID, 20}, {"instance_id", c.InstanceID, 20}, {"gpu_policy_hash", c.GPUPolicyHash, 32}} {
		if len(f.b) != 0 && len(f.b) != f.n {
			return nil, fail(CheckInput, "%s is %d bytes, want %d", f.name, len(f.b), f.n)
		}
	}
	if len(c.InitScriptHashes) > maxInitScripts {
		return nil, fail(CheckInput, "%d init scripts, dstack binds at most %d", len(c.InitScriptHashes), maxInitScripts)
	}
	// Members in JCS order (the names sort the same by byte and UTF-16).
	doc := []byte{'{'}
	member := func(name, value string) {
		if len(doc) > 1 {
			doc = append(doc, ',')
		}
		doc = append(doc, `"`+name+`":`+value...)
	}
	quoted := func(b []byte) string { return `"` + hex.EncodeToString(b) + `"` }
	if len(c.AppID) > 0 {
		member("app_id", quoted(c.AppID))
	}
	member("compose_hash", quoted(c.ComposeHash[:]))
	if len(c.GPUPolicyHash) > 0 {
		member("gpu_policy_hash", quoted(c.GPUPolicyHash))
	}
	if c.InitScriptHashes != nil {
		list := "["
		for i, h := range c.InitScriptHashes {
			if i > 0 {
				list += ","
			}
			list += quoted(h[:])
		}
		member("init_script_hashes", list+"]")
	}
	if len(c.InstanceID) > 0 {
		member("instance_id", quoted(c.InstanceID))
	}
	member("key_provider", strconv.Quote(string(c.KeyProvider)))
	if len(c.KeyProviderID) > 0 {
		member("key_provider_id", quoted(c.KeyProviderID))
	}
	member("version", "3")
	return append(doc, '}'), nil
}

// MRConfigIDV3 returns 0x03 || SHA-256("dstack-mr-config-v3:" || 0x00 ||
// JCS(document)) || 15 zero bytes. Errors are MRConfigV3Document's.
func MRConfigIDV3(c MRConfig) ([48]byte, error) {
	var id [48]byte
	doc, err := MRConfigV3Document(c)
	if err != nil {
		return id, err
	}
	h := sha256.New()
	h.Write([]byte("dstack-mr-config-v3:\x00"))
	h.Write(doc)
	id[0] = 3
	h.Sum(id[1:1])
	return id, nil
}

// VerifyMRConfigID checks that id is the V1, V2 or V3 mr_config_id (chosen
// by its first byte) of c. An all-zero id (no binding) or an unknown
// version fails; so does a mismatch. Errors match ErrMRConfigID (or
// ErrInput for malformed c).
func VerifyMRConfigID(id [48]byte, c MRConfig) error {
	var want [48]byte
	var err error
	switch id[0] {
	case 1:
		want = MRConfigIDV1(c.ComposeHash)
	case 2:
		want, err = MRConfigIDV2(c)
	case 3:
		want, err = MRConfigIDV3(c)
	default:
		if allZero(id[:]) {
			return fail(CheckMRConfigID, "mr_config_id is all zero: the TD binds no configuration")
		}
		return fail(CheckMRConfigID, "mr_config_id version %#02x is unknown", id[0])
	}
	if err != nil {
		return err
	}
	if want != id {
		return fail(CheckMRConfigID, "mr_config_id %x is not the V%d id %x of the verified configuration", id, id[0], want)
	}
	return nil
}
