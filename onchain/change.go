package onchain

import (
	"context"
	"strings"

	"github.com/phalacloud/go-sdk/phala"
)

// Change is one CVM update that the on-chain flow may send twice: first
// with empty hashes (phase 1), then with the registered compose hash and
// its transaction (phase 2). ComposeChange, PreLaunchScriptChange,
// PatchChange and EnvsChange build the common ones.
type Change struct {
	// Send sends the change with p's hashes (empty in phase 1).
	Send func(ctx context.Context, p Phase) (*phala.UpdateResult, error)
	// Edit is what the change does to the app-compose, as the app-compose
	// fields of a PatchCVMRequest (see phala.ExpectedAppCompose). Before
	// any transaction, Updater.Run checks that the compose hash of the 465
	// is the hash of the CVM's current app-compose with exactly Edit
	// applied. nil for a change whose app-compose the SDK cannot
	// reproduce: Run then refuses to register its hash unless
	// Updater.InsecureTrustAPIComposeHash is set.
	Edit *phala.PatchCVMRequest
}

// Phase is what Updater.Run passes to Change.Send.
type Phase struct {
	// ComposeHash and TxHash are empty in phase 1; in phase 2 the
	// registered hash and the transaction that registered it.
	ComposeHash, TxHash string
	// AppID is the caller's app, 40 lowercase hex (Updater.AppID, or the
	// app id the cvmID given to Run is); "" when neither names one.
	AppID string
}

// ComposeChange replaces the CVM's Docker Compose file (UpdateDockerCompose).
func ComposeChange(c *phala.Client, cvmID, compose string) Change {
	return Change{
		Send: func(ctx context.Context, p Phase) (*phala.UpdateResult, error) {
			return c.UpdateDockerCompose(ctx, cvmID, compose, &phala.ComposeUpdateOptions{ComposeHash: p.ComposeHash, TransactionHash: p.TxHash})
		},
		Edit: &phala.PatchCVMRequest{DockerComposeFile: &compose},
	}
}

// PreLaunchScriptChange replaces the CVM's pre-launch script
// (UpdatePreLaunchScript, which refuses an empty script).
func PreLaunchScriptChange(c *phala.Client, cvmID, script string) Change {
	return Change{
		Send: func(ctx context.Context, p Phase) (*phala.UpdateResult, error) {
			return c.UpdatePreLaunchScript(ctx, cvmID, script, &phala.ComposeUpdateOptions{ComposeHash: p.ComposeHash, TransactionHash: p.TxHash})
		},
		Edit: &phala.PatchCVMRequest{PreLaunchScript: &script},
	}
}

// PatchChange applies req with PatchCVM, then confirms it with
// ConfirmCVMPatch. req's ComposeHash, TransactionHash and PrepareOnly are
// ignored; its app-compose fields are the change's Edit.
func PatchChange(c *phala.Client, cvmID string, req phala.PatchCVMRequest) Change {
	req.ComposeHash, req.TransactionHash, req.PrepareOnly = nil, nil, false
	edit := req
	return Change{
		Send: func(ctx context.Context, p Phase) (*phala.UpdateResult, error) {
			if p.ComposeHash != "" {
				r, err := c.ConfirmCVMPatch(ctx, cvmID, &phala.ConfirmCVMPatchRequest{ComposeHash: p.ComposeHash, TransactionHash: p.TxHash})
				if err != nil {
					return nil, err
				}
				return &phala.UpdateResult{Status: phala.StatusInProgress, CorrelationID: r.CorrelationID, Message: r.Message}, nil
			}
			pr, err := c.PatchCVM(ctx, cvmID, &req)
			if err != nil {
				return nil, err
			}
			return patchResult(pr), nil
		},
		Edit: &edit,
	}
}

func patchResult(p *phala.PatchCVMResponse) *phala.UpdateResult {
	if !p.RequiresOnChainHash {
		return &phala.UpdateResult{Status: phala.StatusInProgress, CorrelationID: p.CorrelationID, Message: p.Message, RequestID: p.RequestID}
	}
	return &phala.UpdateResult{RequiresOnChainHash: true, Message: p.Message,
		ComposeHash: p.ComposeHash, AppID: p.AppID, DeviceID: p.DeviceID, KMSInfo: p.KMSInfo, RequestID: p.RequestID}
}

// EnvsChange replaces the CVM's environment variables with
// EncryptAndUpdateEnvs, encrypting them to a key whose signer must be the
// one anchor trusts (for an on-chain KMS, a *KMSAnchor with the KMS
// contract pinned) and whose app is the caller's (Phase.AppID: Updater.AppID
// or the app id cvmID is). The anchor is asked in each phase; a key signed
// by anyone else, or for another app, fails with an error matching
// phala.ErrKeyVerification before any value is encrypted. A nil anchor
// leaves the key check to EncryptAndUpdateEnvs's defaults (the client's
// WithKeyAnchor). The change's Edit sets allowed_envs to the env keys in
// the order given, as EncryptAndUpdateEnvs sends them.
func EnvsChange(c *phala.Client, cvmID string, envs []phala.EnvVar, anchor phala.KeyAnchor) Change {
	return Change{
		Send: func(ctx context.Context, p Phase) (*phala.UpdateResult, error) {
			opts := &phala.UpdateEnvsOptions{ComposeHash: p.ComposeHash, TransactionHash: p.TxHash}
			opts.Key.Anchor, opts.Key.AppID = anchor, p.AppID
			return c.EncryptAndUpdateEnvs(ctx, cvmID, envs, opts)
		},
		Edit: &phala.PatchCVMRequest{AllowedEnvs: phala.EnvKeys(envs)},
	}
}

// KMSRefOf reads the CVM detail and returns its KMS as a phala.KMSRef
// (kms_info: id, slug, chain_id, the KMS contract address; the app id).
// Every value is the API's word: an anchor given it compares them with
// what the caller pinned.
func KMSRefOf(ctx context.Context, c *phala.Client, cvmID string) (phala.KMSRef, error) {
	info, err := c.GetCVMInfo(ctx, cvmID)
	if err != nil {
		return phala.KMSRef{}, err
	}
	ref := phala.KMSRef{AppID: strings.TrimPrefix(strings.ToLower(info.AppID), "app_")}
	if k := info.KMSInfo; k != nil {
		ref.ID, ref.Slug, ref.ChainID, ref.ContractAddress = k.ID, k.Slug, k.ChainID, k.KMSContractAddress
	}
	return ref, nil
}
