package onchain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/phalacloud/go-sdk/phala"
)

// Change is one CVM update that the on-chain flow may send twice: first
// with empty hashes (phase 1), then with the registered compose hash and
// its transaction (phase 2). ComposeChange, PatchChange and EnvsChange
// build the common ones.
type Change func(ctx context.Context, composeHash, txHash string) (*phala.UpdateResult, error)

// ComposeChange replaces the CVM's Docker Compose file (UpdateDockerCompose).
func ComposeChange(c *phala.Client, cvmID, compose string) Change {
	return func(ctx context.Context, hash, tx string) (*phala.UpdateResult, error) {
		return c.UpdateDockerCompose(ctx, cvmID, compose, &phala.ComposeUpdateOptions{ComposeHash: hash, TransactionHash: tx})
	}
}

// PatchChange applies req with PatchCVM, then confirms it with
// ConfirmCVMPatch. req's ComposeHash, TransactionHash and PrepareOnly are
// ignored.
func PatchChange(c *phala.Client, cvmID string, req phala.PatchCVMRequest) Change {
	req.ComposeHash, req.TransactionHash, req.PrepareOnly = nil, nil, false
	return func(ctx context.Context, hash, tx string) (*phala.UpdateResult, error) {
		if hash != "" {
			r, err := c.ConfirmCVMPatch(ctx, cvmID, &phala.ConfirmCVMPatchRequest{ComposeHash: hash, TransactionHash: tx})
			if err != nil {
				return nil, err
			}
			return &phala.UpdateResult{Status: phala.StatusInProgress, CorrelationID: r.CorrelationID, Message: r.Message}, nil
		}
		p, err := c.PatchCVM(ctx, cvmID, &req)
		if err != nil {
			return nil, err
		}
		return patchResult(p), nil
	}
}

func patchResult(p *phala.PatchCVMResponse) *phala.UpdateResult {
	if !p.RequiresOnChainHash {
		return &phala.UpdateResult{Status: phala.StatusInProgress, CorrelationID: p.CorrelationID, Message: p.Message, RequestID: p.RequestID}
	}
	return &phala.UpdateResult{Status: phala.StatusPreconditionRequired, RequiresOnChainHash: true, Message: p.Message,
		ComposeHash: p.ComposeHash, AppID: p.AppID, DeviceID: p.DeviceID, KMSInfo: p.KMSInfo, RequestID: p.RequestID}
}

// EnvsChange replaces the CVM's environment variables with EncryptAndUpdateEnvs,
// encrypting them to a key whose signer must be the one anchor trusts
// (for an on-chain KMS, a *KMSAnchor: the KMS contract's k256Pubkey). The
// signer is read once, before phase 1; a key signed by anyone else fails
// with an error matching phala.ErrKeyVerification before any value is
// encrypted. A nil anchor leaves the key check to EncryptAndUpdateEnvs's defaults.
func EnvsChange(c *phala.Client, cvmID string, envs []phala.EnvVar, anchor phala.KeyAnchor) Change {
	var signer string
	return func(ctx context.Context, hash, tx string) (*phala.UpdateResult, error) {
		opts := &phala.UpdateEnvsOptions{ComposeHash: hash, TransactionHash: tx}
		if anchor != nil {
			if signer == "" {
				ref, err := KMSRefOf(ctx, c, cvmID)
				if err != nil {
					return nil, err
				}
				if signer, err = anchor.TrustedSigner(ctx, ref); err != nil {
					return nil, fmt.Errorf("%w: trust anchor %s: %w", phala.ErrKeyVerification, anchor, err)
				}
			}
			opts.Key.ExpectedSigner = signer
		}
		return c.EncryptAndUpdateEnvs(ctx, cvmID, envs, opts)
	}
}

// KMSRefOf reads the CVM detail and returns its KMS as a phala.KMSRef
// (kms_info: id, slug, chain_id, the KMS contract address; the app id).
func KMSRefOf(ctx context.Context, c *phala.Client, cvmID string) (phala.KMSRef, error) {
	info, err := c.GetCVMInfo(ctx, cvmID)
	if err != nil {
		return phala.KMSRef{}, err
	}
	ref := phala.KMSRef{AppID: strings.TrimPrefix(strings.ToLower(info.AppID), "app_")}
	if k := info.KMSInfo; k != nil {
		ref.ID, ref.Slug, ref.ChainID, ref.ContractAddress = k.ID, k.Slug, k.ChainID, k.DstackKMSAddress
	}
	return ref, nil
}

// Step names a point of the on-chain flow reported to Updater.OnProgress.
type Step string

// The steps, in order. StepAllowed replaces StepSubmitted and StepConfirmed
// when the hash was registered before.
const (
	// StepHashRequired: phase 1 answered 465 with the compose hash.
	StepHashRequired Step = "hash_required"
	// StepAllowed: the app contract already allows the hash.
	StepAllowed Step = "already_allowed"
	// StepSubmitted: the addComposeHash transaction was sent (TxHash).
	StepSubmitted Step = "submitted"
	// StepConfirmed: its receipt has the confirmations asked (Receipt).
	StepConfirmed Step = "confirmed"
	// StepCommitted: phase 2 was accepted (CorrelationID).
	StepCommitted Step = "committed"
	// StepLive: the CVM runs the new version (State).
	StepLive Step = "live"
)

// Event is one progress report of Updater.Run.
type Event struct {
	Step          Step
	ComposeHash   string
	TxHash        common.Hash
	Receipt       *types.Receipt
	CorrelationID string
	State         *phala.CVMState
	// Finality and ExpectedWait (StepAwaitingFinality, StepFinal): the
	// stage waited for and its measured p90 from inclusion (0: unknown).
	Finality     Finality
	ExpectedWait time.Duration
}

// Updater runs the whole on-chain KMS update: send the change; on the 465,
// check the chain, read whether the app contract already allows the
// compose hash and register it if not (addComposeHash, receipt with
// confirmations), check the device allow-list, wait until the registration
// is as final as Finality asks ("safe" by default, see DefaultFinality),
// send the change again with the hashes, and wait until the CVM runs the
// new version.
type Updater struct {
	// Client talks to Phala Cloud.
	Client *phala.Client
	// Backend is the chain of the CVM's KMS (the caller's RPC endpoint).
	Backend Backend
	// Signer sends the registration; it must own the app contract. With
	// CalldataOnly, Run stops after phase 1 and returns the Call.
	Signer Signer
	// Tx tunes the registration transaction (fees, confirmations, ...);
	// its OnSubmitted/OnConfirmed are called besides OnProgress.
	Tx *TxOptions
	// Wait tunes the final wait (nil: WaitForUpdate's defaults).
	Wait *phala.WaitOptions
	// SkipWait returns after phase 2 without waiting for the CVM.
	SkipWait bool
	// AddDevice registers the CVM's device (addDevice) when the app
	// contract allows neither it nor any device; without it Run fails
	// with ErrDeviceNotAllowed before registering anything.
	AddDevice bool
	// RegistrationFromBlock is where FindRegistration starts looking for
	// the transaction of a hash allowed before (nil: block 0).
	RegistrationFromBlock *big.Int
	// Finality is how final the registration must be before phase 2
	// (finality.go): "" means DefaultFinality ("safe"); FinalityFinalized,
	// or FinalityNone for Tx.Confirmations alone.
	Finality Finality
	// OnProgress is called at each Step.
	OnProgress func(Event)
}

// ErrDeviceNotAllowed: the app contract allows neither the CVM's device
// nor any device, so the new version would not boot.
var ErrDeviceNotAllowed = errors.New("onchain: the app contract does not allow the CVM's device")

// Outcome is what Run did.
type Outcome struct {
	// OnChain is false when the change needed no on-chain step.
	OnChain bool
	// ComposeHash is the registered hash (64 hex), from the 465.
	ComposeHash string
	// AppID is the app (40 hex); the contract is at 0x + AppID.
	AppID string
	// AlreadyAllowed is true when the contract allowed the hash before.
	AlreadyAllowed bool
	// TxHash registered the hash (found on chain when AlreadyAllowed).
	TxHash common.Hash
	// Registration is the registration (nil when AlreadyAllowed); with a
	// CalldataOnly Signer only Registration.Call is set and nothing else
	// ran.
	Registration *Tx
	// Result is the accepted update (phase 2, or phase 1 off-chain).
	Result *phala.UpdateResult
	// State is the CVM's state once live (nil with SkipWait).
	State *phala.CVMState
}

// Run performs change on cvmID end to end; ctx bounds it all. Errors:
// those of the change (an *phala.APIError: 467 and 468 match
// phala.ErrTransactionVerificationFailed and ErrComposeHashNotAllowed);
// *ChainMismatchError when Backend serves another chain than the CVM's
// KMS; *NoContractError, *RevertError, *InsufficientFundsError from the
// registration; ErrDeviceNotAllowed; *FinalityError (ErrFinalityUnavailable,
// ErrFinalityTimeout) from the finality wait, phase 2 not sent; an
// invalid Finality before anything is sent; WaitForUpdate's errors; ctx's.
func (u *Updater) Run(ctx context.Context, cvmID string, change Change) (*Outcome, error) {
	if u == nil || u.Client == nil {
		return nil, invalidArg("updater.Client", "is nil")
	}
	if change == nil {
		return nil, invalidArg("change", "is nil")
	}
	if _, err := u.finality(); err != nil {
		return nil, err
	}
	res, err := change(ctx, "", "")
	if err != nil {
		return nil, err
	}
	out := &Outcome{Result: res}
	if res.RequiresOnChainHash {
		if err := u.register(ctx, res, out); err != nil || out.Registration != nil && out.Registration.Receipt == nil {
			return out, err
		}
		if err := u.awaitFinality(ctx, out); err != nil {
			return out, err
		}
		if res, err = change(ctx, out.ComposeHash, out.TxHash.Hex()); err != nil {
			return out, err
		}
		if res.RequiresOnChainHash {
			return out, fmt.Errorf("onchain: phase 2 answered 465 again for hash %s", out.ComposeHash)
		}
		out.Result = res
		u.progress(Event{Step: StepCommitted, ComposeHash: out.ComposeHash, TxHash: out.TxHash, CorrelationID: res.CorrelationID})
	}
	if u.SkipWait || res.CorrelationID == "" {
		return out, nil
	}
	st, err := u.Client.WaitForUpdate(ctx, cvmID, res, u.Wait)
	if err != nil {
		return out, err
	}
	out.State = st
	u.progress(Event{Step: StepLive, ComposeHash: out.ComposeHash, TxHash: out.TxHash, CorrelationID: res.CorrelationID, State: st})
	return out, nil
}

// register is the on-chain half: chain check, allowed?, device, addComposeHash.
func (u *Updater) register(ctx context.Context, res *phala.UpdateResult, out *Outcome) error {
	out.OnChain, out.ComposeHash, out.AppID = true, res.ComposeHash, res.AppID
	u.progress(Event{Step: StepHashRequired, ComposeHash: res.ComposeHash})
	if u.Backend == nil {
		return invalidArg("updater.Backend", "is nil: the update needs the chain of the CVM's KMS")
	}
	if u.Signer == nil {
		return invalidArg("updater.Signer", "is nil: the update needs the app owner's signer")
	}
	var want *big.Int
	if res.KMSInfo != nil && res.KMSInfo.ChainID != nil {
		want = big.NewInt(*res.KMSInfo.ChainID)
	}
	if _, err := checkChain(ctx, u.Backend, want); err != nil {
		return err
	}
	app, err := NewApp(u.Backend, res.AppID)
	if err != nil {
		return err
	}
	allowed, err := app.ComposeHashAllowed(ctx, res.ComposeHash)
	if err != nil {
		return err
	}
	if res.DeviceID != "" && !isCalldataOnly(u.Signer) {
		ok, err := app.DeviceCanBoot(ctx, res.DeviceID)
		if err != nil {
			return err
		}
		if !ok {
			if !u.AddDevice {
				return fmt.Errorf("%w: device %s on %s (set Updater.AddDevice to register it)", ErrDeviceNotAllowed, res.DeviceID, app.Address().Hex())
			}
			if _, err := app.AddDevice(ctx, u.Signer, res.DeviceID, u.Tx); err != nil {
				return err
			}
		}
	}
	if allowed {
		out.AlreadyAllowed = true
		if out.TxHash, err = app.FindRegistration(ctx, res.ComposeHash, u.RegistrationFromBlock); err != nil {
			return err
		}
		u.progress(Event{Step: StepAllowed, ComposeHash: res.ComposeHash, TxHash: out.TxHash})
		return nil
	}
	o := u.Tx.orDefault()
	userSubmitted, userConfirmed := o.OnSubmitted, o.OnConfirmed
	o.OnSubmitted = func(h common.Hash) {
		if userSubmitted != nil {
			userSubmitted(h)
		}
		u.progress(Event{Step: StepSubmitted, ComposeHash: res.ComposeHash, TxHash: h})
	}
	o.OnConfirmed = func(r *types.Receipt) {
		if userConfirmed != nil {
			userConfirmed(r)
		}
		u.progress(Event{Step: StepConfirmed, ComposeHash: res.ComposeHash, TxHash: r.TxHash, Receipt: r})
	}
	tx, err := app.AddComposeHash(ctx, u.Signer, res.ComposeHash, &o)
	if err != nil {
		return err
	}
	out.Registration, out.TxHash = tx, tx.Hash
	return nil
}

func (u *Updater) progress(e Event) {
	if u.OnProgress != nil {
		u.OnProgress(e)
	}
}

// Checker answers phalatest's ChainChecker questions from a chain, so that
// an in-memory Phala Cloud verifies phase 2 against a real EVM: pass
// phalatest.WithChainChecker(onchain.NewChecker(backend)). It refuses a
// chain id the backend does not serve.
type Checker struct{ b Backend }

// NewChecker reads the app contracts through b.
func NewChecker(b Backend) *Checker { return &Checker{b: b} }

// ComposeHashAllowed reads allowedComposeHashes(composeHash) at 0x + appID.
func (c *Checker) ComposeHashAllowed(ctx context.Context, chainID int64, appID, composeHash string) (bool, error) {
	app, err := c.app(ctx, chainID, appID)
	if err != nil {
		return false, err
	}
	return app.ComposeHashAllowed(ctx, composeHash)
}

// TransactionRegisters reports whether txHash registered composeHash on
// 0x + appID (App.VerifyRegistration).
func (c *Checker) TransactionRegisters(ctx context.Context, chainID int64, appID, composeHash, txHash string) (bool, error) {
	app, err := c.app(ctx, chainID, appID)
	if err != nil {
		return false, err
	}
	err = app.VerifyRegistration(ctx, composeHash, txHash)
	if errors.Is(err, ErrNotRegistered) {
		return false, nil
	}
	return err == nil, err
}

func (c *Checker) app(ctx context.Context, chainID int64, appID string) (*App, error) {
	if _, err := checkChain(ctx, c.b, big.NewInt(chainID)); err != nil {
		return nil, err
	}
	return NewApp(c.b, appID)
}
