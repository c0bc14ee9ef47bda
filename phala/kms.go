package phala

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/phalacloud/go-sdk/gen"
)

// EnvEncryptPublicKey is the X25519 key that encrypts a CVM's environment
// variables, where it came from, and what it was checked against.
type EnvEncryptPublicKey struct {
	// PublicKey is the key, 64 lowercase hex characters.
	PublicKey string
	// OnChain is true when the key came from an on-chain KMS, signed.
	OnChain bool
	// KMS is the KMS id or slug asked (on-chain only).
	KMS string
	// AppID is the app the key belongs to (40 hex).
	AppID string
	// Signer is the compressed secp256k1 key (0x + 66 lowercase hex) that
	// PublicKey's signature recovers to (on-chain only). When
	// SignerVerified is true it equals the anchor's trusted signer.
	Signer string
	// SignerVerified is true when Signer was compared with, and equals, the
	// signer the anchor returned; false for a central KMS (no signature)
	// and under InsecureTrustAPISigner (no comparison).
	SignerVerified bool
	// Anchor is the String() of the KeyAnchor the key was checked against
	// (EnvKeyOptions.Anchor, ExpectedSigner as a pinned signer, or
	// WithKeyAnchor); "" when none was given, which is only possible for a
	// central KMS, whose key then came unsigned from the API.
	Anchor string
	// ChainID is the KMS contract's chain (on-chain only).
	ChainID *int64
}

// EnvKeyOptions tune GetEnvEncryptPublicKey (and EncryptAndUpdateEnvs, via
// UpdateEnvsOptions.Key).
type EnvKeyOptions struct {
	// KMS overrides the KMS id or slug to ask (on-chain KMS); by default
	// it comes from the CVM detail.
	KMS string
	// Anchor is the source of the KMS signer this call trusts; nil means
	// the client's WithKeyAnchor, if any. See KeyAnchor, PinnedSigner and
	// InsecureTrustAPISigner.
	Anchor KeyAnchor
	// ExpectedSigner is shorthand for Anchor: PinnedSigner(ExpectedSigner)
	// (0x + 66 hex, compressed secp256k1, case-insensitive). Set at most
	// one of Anchor and ExpectedSigner; a malformed value is an
	// ErrInvalidArgument error before any request.
	ExpectedSigner string
	// Now is the clock for timestamped signatures; nil means time.Now.
	Now func() time.Time
	// AppID pins the app whose key may encrypt (40 hex, optional "0x" or
	// "app_", any case). The KMS signs the key of whichever app the CVM
	// detail names, so for an on-chain KMS the app must be one the caller
	// named: either cvmID is the app id (app_ + 40 hex, or the bare 40
	// hex), or AppID is set; otherwise the call is refused with an
	// ErrKeyVerification error before the key is fetched (under
	// InsecureTrustAPISigner, which lets the API choose the key anyway,
	// only a named app is checked). When both are given they must agree
	// (ErrInvalidArgument, before any request).
	AppID string
}

// kmsKeyBody is the KMS key answer {public_key, signature, timestamp?}
// (phala-cloud-api.md, "Encrypted environment variables"; timestamp: dstack
// KMS GetAppEnvEncryptPubKey), the spec's EnvEncryptPublicKeyResponse.
type kmsKeyBody struct {
	PublicKey string  `json:"public_key"`
	Signature string  `json:"signature"`
	Timestamp *uint64 `json:"timestamp"`
}

// ErrKeyVerification is matched by errors.Is when an env-encryption key is
// refused: no KeyAnchor for an on-chain KMS, an unsigned (central) key
// although an anchor was given, a signature that does not verify or that
// recovers a signer other than the anchor's, or an anchor that failed. The
// error is a *KeyVerificationError. Nothing was encrypted or sent.
const ErrKeyVerification = sentinel("phala: env encryption key failed verification")

// GetEnvEncryptPublicKey finds the key that encrypts cvmID's environment
// variables and checks it against the anchor in effect (opts.Anchor,
// opts.ExpectedSigner, else the client's WithKeyAnchor; opts may be nil):
//
//   - On-chain KMS (the detail's kms_info.chain_id is set): the anchor is
//     asked for the trusted signer first, then GET /kms/{kms}/pubkey/{appId}
//     is fetched and its secp256k1 signature must recover exactly that
//     signer. With no anchor the call is refused before the key is fetched.
//     The signature binds the key to the app id of the detail
//     (EnvEncryptPublicKey.AppID), which must be the app the caller named:
//     cvmID as an app id, or opts.AppID; with neither, the call is refused
//     before the key is fetched.
//     Under InsecureTrustAPISigner the signature must verify but its signer
//     is not compared.
//   - Central KMS (no chain_id): the detail's kms_info.encrypted_env_pubkey
//     is used as given, unsigned: only TLS to the API vouches for it. With
//     an anchor in effect (other than InsecureTrustAPISigner) the call is
//     refused, since a detail that drops chain_id can come from anyone
//     between you and the API.
//
// Errors: ErrInvalidArgument for a malformed cvmID, ExpectedSigner or
// AppID, an AppID other than the app id cvmID is, or both Anchor and
// ExpectedSigner set (before any request); the errors of
// GetCVMInfo; a *KeyVerificationError (ErrKeyVerification) naming the KMS,
// the anchor and both signers for every refusal above.
func (c *Client) GetEnvEncryptPublicKey(ctx context.Context, cvmID string, opts *EnvKeyOptions) (out *EnvEncryptPublicKey, err error) {
	if ctx, err = c.begin(ctx); err != nil {
		return nil, err
	}
	return c.envEncryptPublicKey(ctx, cvmID, opts, "opts.")
}

// resolveAnchor picks the anchor in effect for a call; field prefixes
// name the options in errors.
func (c *Client) resolveAnchor(opts *EnvKeyOptions, prefix string) (KeyAnchor, error) {
	switch {
	case opts.Anchor != nil && isNilAnchor(opts.Anchor):
		return nil, invalidArg(prefix+"Anchor", "the anchor is a typed nil")
	case opts.Anchor != nil && opts.ExpectedSigner != "":
		return nil, invalidArg(prefix+"ExpectedSigner", "set either Anchor or ExpectedSigner, not both")
	case opts.Anchor != nil:
		return opts.Anchor, nil
	case opts.ExpectedSigner != "":
		a, err := PinnedSigner(opts.ExpectedSigner)
		if err != nil {
			var iae *InvalidArgumentError
			if errors.As(err, &iae) {
				return nil, invalidArg(prefix+"ExpectedSigner", "%s", iae.Reason)
			}
			return nil, err
		}
		return a, nil
	}
	return c.cfg.keyAnchor, nil
}

func (c *Client) envEncryptPublicKey(ctx context.Context, cvmID string, opts *EnvKeyOptions, prefix string) (*EnvEncryptPublicKey, error) {
	if opts == nil {
		opts = &EnvKeyOptions{}
	}
	anchor, err := c.resolveAnchor(opts, prefix)
	if err != nil {
		return nil, err
	}
	wantApp, err := callerAppID(cvmID, opts.AppID, prefix+"AppID")
	if err != nil {
		return nil, err
	}
	_, trustAPI := anchor.(apiTrust)
	anchorName := ""
	if anchor != nil {
		anchorName = anchor.String()
	}
	info, err := c.GetCVMInfo(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	appID := strings.TrimPrefix(strings.ToLower(info.AppID), "app_")
	if !info.KMSInfo.OnChain() {
		if anchor != nil && !trustAPI {
			return nil, &KeyVerificationError{CVM: info.Name, Anchor: anchorName,
				Reason: "the CVM detail shows the central KMS (no chain_id), whose key is not signed, so it cannot be checked against the anchor; " +
					"refused, since such a detail can come from anyone between you and the API (for a CVM that really is on the central KMS, set EnvKeyOptions.Anchor to phala.InsecureTrustAPISigner())"}
		}
		if info.KMSInfo == nil || info.KMSInfo.EncryptedEnvPublicKey == "" {
			return nil, fmt.Errorf("phala: CVM %s (central KMS) has no encrypted_env_pubkey in its detail", info.Name)
		}
		pk, err := normalizeKey(info.KMSInfo.EncryptedEnvPublicKey)
		if err != nil {
			return nil, fmt.Errorf("phala: CVM %s (central KMS): %w", info.Name, err)
		}
		return &EnvEncryptPublicKey{PublicKey: pk, AppID: appID, Anchor: anchorName}, nil
	}
	chain := *info.KMSInfo.ChainID
	kms := opts.KMS
	if kms == "" {
		kms = info.KMSInfo.ID
	}
	if kms == "" {
		kms = info.KMSInfo.Slug
	}
	if anchor == nil {
		return nil, &KeyVerificationError{CVM: info.Name, KMS: kms,
			Reason: fmt.Sprintf("the CVM is on the chain %d KMS and no key anchor was given, so its key's signature cannot prove anything; "+
				"pin the KMS signer with EnvKeyOptions.ExpectedSigner, or set EnvKeyOptions.Anchor or the client option phala.WithKeyAnchor "+
				"to an anchor made by phala.PinnedSigner or by an on-chain anchor (the onchain module's NewKMSAnchor with the KMS contract pinned); "+
				"phala.InsecureTrustAPISigner lets the API choose the key", chain)}
	}
	if kms == "" {
		return nil, invalidArg(prefix+"KMS", "CVM %s is on the chain %d KMS, whose id its detail does not give: set EnvKeyOptions.KMS", info.Name, chain)
	}
	if !hex40RE.MatchString(appID) {
		return nil, fmt.Errorf("phala: KMS %s: the CVM's app id %q is not 40 hex characters", kms, appID)
	}
	trusted := ""
	// Under InsecureTrustAPISigner the API chooses the key anyway: the app
	// is then checked only when the caller named one.
	if !trustAPI || wantApp != "" {
		if err := checkCallerApp(info.Name, kms, anchorName, wantApp, appID); err != nil {
			return nil, err
		}
	}
	if !trustAPI {
		ref := KMSRef{ID: kms, Slug: info.KMSInfo.Slug, ChainID: info.KMSInfo.ChainID,
			ContractAddress: info.KMSInfo.KMSContractAddress, AppID: appID}
		if opts.KMS == "" {
			ref.ID = info.KMSInfo.ID
		}
		s, err := anchor.TrustedSigner(ctx, ref)
		if err != nil {
			return nil, &KeyVerificationError{CVM: info.Name, KMS: kms, Anchor: anchorName,
				Reason: "the anchor gave no trusted signer", Err: err}
		}
		if trusted, err = normalizeSigner(s); err != nil {
			return nil, &KeyVerificationError{CVM: info.Name, KMS: kms, Anchor: anchorName,
				Reason: "the anchor returned a malformed signer", Err: err}
		}
	}
	key, err := c.kmsPublicKey(ctx, kms, appID, opts)
	if err != nil {
		var kve *KeyVerificationError
		if errors.As(err, &kve) {
			kve.CVM, kve.Anchor, kve.TrustedSigner = info.Name, anchorName, trusted
		}
		return nil, err
	}
	key.ChainID = info.KMSInfo.ChainID
	key.Anchor = anchorName
	if !trustAPI {
		if key.Signer != trusted {
			return nil, &KeyVerificationError{CVM: info.Name, KMS: kms, Anchor: anchorName, Signer: key.Signer, TrustedSigner: trusted,
				Reason: fmt.Sprintf("the key is signed by %s, not by the trusted signer %s", key.Signer, trusted)}
		}
		key.SignerVerified = true
	}
	return key, nil
}

// kmsPublicKey fetches an on-chain KMS's key for appID and recovers its
// signature's signer (not compared with anything here).
func (c *Client) kmsPublicKey(ctx context.Context, kms, appID string, opts *EnvKeyOptions) (*EnvEncryptPublicKey, error) {
	req, err := gen.NewGetKMSEnvEncryptPublicKeyRequest(c.server, kms, appID,
		&gen.GetKMSEnvEncryptPublicKeyParams{XPhalaVersion: Ptr(kmsPubkeyAPIVersion)})
	r, err := c.do(ctx, opGetKMSEnvEncryptPublicKey, req, err)
	if err != nil {
		return nil, err
	}
	var body kmsKeyBody
	if err := decodeJSON(r, &body); err != nil {
		return nil, fmt.Errorf("phala: KMS %s: %w", kms, err)
	}
	pk, err1 := hex.DecodeString(strings.TrimPrefix(body.PublicKey, "0x"))
	sig, err2 := hex.DecodeString(strings.TrimPrefix(body.Signature, "0x"))
	if err1 != nil || err2 != nil || len(pk) != 32 {
		return nil, &KeyVerificationError{KMS: kms, Reason: "the KMS answered a key that is not 32 bytes of hex, or a signature that is not hex"}
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
		return nil, &KeyVerificationError{KMS: kms, Reason: "app " + appID + ": the signature does not verify", Err: err}
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
