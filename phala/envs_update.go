package phala

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// EnvEncryptPublicKey is the X25519 key that encrypts a CVM's environment
// variables, and where it came from.
type EnvEncryptPublicKey struct {
	// PublicKey is the key, 64 lowercase hex characters.
	PublicKey string
	// OnChain is true when the key came from an on-chain KMS, signed.
	OnChain bool
	// KMS is the KMS id or slug asked (on-chain only).
	KMS string
	// AppID is the app the key belongs to (40 hex).
	AppID string
	// Signer is the KMS's compressed secp256k1 key that signed PublicKey,
	// 0x-hex (on-chain only); compare it with the KMS you trust.
	Signer string
	// ChainID is the KMS contract's chain (on-chain only).
	ChainID *int64
}

// EnvKeyOptions tune GetEnvEncryptPublicKeyWith.
type EnvKeyOptions struct {
	// KMS overrides the KMS id or slug to ask (on-chain KMS); by default
	// it comes from the CVM detail.
	KMS string
	// ExpectedSigner, when set, must equal the recovered signer (0x-hex,
	// compressed secp256k1, case-insensitive).
	ExpectedSigner string
	// Now is the clock for timestamped signatures; nil means time.Now.
	Now func() time.Time
}

// ErrKeyVerification is matched by errors.Is when an on-chain KMS key's
// signature does not verify or was made by an unexpected signer.
var ErrKeyVerification = errors.New("phala: env encryption key failed verification")

// GetEnvEncryptPublicKey finds the key that encrypts cvmID's environment
// variables: for a central KMS the CVM detail's kms_info.encrypted_env_pubkey;
// for an on-chain KMS GET /kms/{kms}/pubkey/{appId}, whose secp256k1
// signature is verified (the signer is returned for the caller to compare).
// Errors name the KMS and the reason; a bad signature matches
// ErrKeyVerification.
func (c *Client) GetEnvEncryptPublicKey(ctx context.Context, cvmID string) (out *EnvEncryptPublicKey, err error) {
	defer auditOut(&out, &err)
	if ctx, err = c.begin(ctx); err != nil {
		return nil, err
	}
	return c.GetEnvEncryptPublicKeyWith(ctx, cvmID, nil)
}

// GetEnvEncryptPublicKeyWith is GetEnvEncryptPublicKey with options, e.g.
// the signer the caller trusts.
func (c *Client) GetEnvEncryptPublicKeyWith(ctx context.Context, cvmID string, opts *EnvKeyOptions) (out *EnvEncryptPublicKey, err error) {
	defer auditOut(&out, &err)
	if ctx, err = c.begin(ctx); err != nil {
		return nil, err
	}
	info, err := c.GetCVMInfo(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &EnvKeyOptions{}
	}
	appID := strings.TrimPrefix(strings.ToLower(info.AppID), "app_")
	if !info.KMSInfo.OnChain() {
		if info.KMSInfo == nil || info.KMSInfo.EncryptedEnvPubkey == "" {
			return nil, fmt.Errorf("phala: CVM %s (central KMS) has no encrypted_env_pubkey in its detail", info.Name)
		}
		pk, err := normalizeKey(info.KMSInfo.EncryptedEnvPubkey)
		if err != nil {
			return nil, fmt.Errorf("phala: CVM %s (central KMS): %w", info.Name, err)
		}
		return &EnvEncryptPublicKey{PublicKey: pk, AppID: appID}, nil
	}
	kms := opts.KMS
	if kms == "" {
		kms = info.KMSInfo.ID
	}
	if kms == "" {
		kms = info.KMSInfo.Slug
	}
	if kms == "" {
		return nil, invalidArg("opts.KMS", "CVM %s is on the chain %d KMS, whose id its detail does not give: set EnvKeyOptions.KMS", info.Name, *info.KMSInfo.ChainID)
	}
	key, err := c.kmsPublicKey(ctx, kms, appID, opts)
	if err != nil {
		return nil, err
	}
	key.ChainID = info.KMSInfo.ChainID
	return key, nil
}

// kmsPublicKey fetches and verifies an on-chain KMS's key for appID.
func (c *Client) kmsPublicKey(ctx context.Context, kms, appID string, opts *EnvKeyOptions) (*EnvEncryptPublicKey, error) {
	if !hex40RE.MatchString(appID) {
		return nil, fmt.Errorf("phala: KMS %s: the CVM's app id %q is not 40 hex characters", kms, appID)
	}
	r, err := read(c.api.GetKMSEnvEncryptPublicKey(withOptionalAuth(ctx), kms, appID, nil))
	if err != nil {
		return nil, err
	}
	if err := expect(r, http.StatusOK); err != nil {
		return nil, fmt.Errorf("phala: KMS %s: %w", kms, err)
	}
	var body struct {
		PublicKey string  `json:"public_key"`
		Signature string  `json:"signature"`
		Timestamp *uint64 `json:"timestamp"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return nil, fmt.Errorf("phala: KMS %s: %w", kms, err)
	}
	pk, err1 := hex.DecodeString(strings.TrimPrefix(body.PublicKey, "0x"))
	sig, err2 := hex.DecodeString(strings.TrimPrefix(body.Signature, "0x"))
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: KMS %s answered a key or signature that is not hex", ErrKeyVerification, kms)
	}
	var signer string
	if body.Timestamp != nil {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		signer, err = VerifyEnvEncryptPublicKeyAt(pk, sig, appID, *body.Timestamp, now())
	} else {
		signer, err = VerifyEnvEncryptPublicKey(pk, sig, appID)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: KMS %s, app %s: %w", ErrKeyVerification, kms, appID, err)
	}
	if opts.ExpectedSigner != "" && !strings.EqualFold(signer, opts.ExpectedSigner) {
		return nil, fmt.Errorf("%w: KMS %s signed with %s, not the expected %s", ErrKeyVerification, kms, signer, opts.ExpectedSigner)
	}
	return &EnvEncryptPublicKey{PublicKey: hex.EncodeToString(pk), OnChain: true, KMS: kms, AppID: appID, Signer: signer}, nil
}

func normalizeKey(s string) (string, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if err != nil || len(b) != 32 {
		return "", errors.New("the env encryption key is not 32 bytes of hex")
	}
	return hex.EncodeToString(b), nil
}

// UpdateEnvsOptions tune UpdateEnvs.
type UpdateEnvsOptions struct {
	// ComposeHash and TransactionHash complete the on-chain flow: pass the
	// hash of the first call's StatusPreconditionRequired result and the
	// registration transaction. Both or neither.
	ComposeHash     string
	TransactionHash string
	// Key tunes how the encryption key is found and verified.
	Key EnvKeyOptions
}

// UpdateEnvs replaces the CVM's environment variables in one call: it
// fetches and verifies the encryption key, encrypts envs, derives EnvKeys
// from them (so that no variable is silently dropped inside the VM for
// not being allowed), and calls UpdateCVMEnvs. On an on-chain KMS a change
// of keys first returns StatusPreconditionRequired; call again with
// opts.ComposeHash and opts.TransactionHash. Errors: an ErrInvalidArgument
// error for an empty or malformed env set (see EncryptEnvVars), the key
// errors of GetEnvEncryptPublicKey, and UpdateCVMEnvs's errors.
func (c *Client) UpdateEnvs(ctx context.Context, cvmID string, envs []EnvVar, opts *UpdateEnvsOptions) (out *UpdateResult, err error) {
	defer auditOut(&out, &err)
	if ctx, err = c.begin(ctx); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &UpdateEnvsOptions{}
	}
	if _, err := checkCVMID(cvmID); err != nil {
		return nil, err
	}
	if err := validateEnvVars(envs); err != nil {
		return nil, err
	}
	if err := checkPhase2("opts.", opts.ComposeHash, opts.TransactionHash); err != nil {
		return nil, err
	}
	key, err := c.GetEnvEncryptPublicKeyWith(ctx, cvmID, &opts.Key)
	if err != nil {
		return nil, err
	}
	enc, err := EncryptEnvVars(envs, key.PublicKey)
	if err != nil {
		return nil, err
	}
	return c.UpdateCVMEnvs(ctx, cvmID, &UpdateEnvsRequest{EncryptedEnv: enc, EnvKeys: EnvKeys(envs),
		ComposeHash: nonEmpty(opts.ComposeHash), TransactionHash: nonEmpty(opts.TransactionHash)})
}
