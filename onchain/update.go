package onchain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/attest"
)

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
	// Attestation (StepAttested) is the verified attestation's report.
	Attestation *attest.Report
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
	// Attest, when set, ends the run with StepAttested: once the CVM is
	// live, its attestation (GetCVMAttestation) is verified with
	// attest.Verify against the hash this run registered and the caller's
	// app; Attest gives the time, collateral or source, policy, KMS and
	// pins (see attest.Expected). Its failure is an *attest.Error naming
	// the check, with the report in Outcome.Attestation.
	Attest *attest.Expected
	// AttestedBaseline, when set, makes the document a change is applied
	// to before its hash is checked the running CVM's attested app-compose
	// (attest.AttestedBaseline: the exact bytes whose hash the quote's
	// RTMR3 binds, verified to Intel's root with these expectations and the
	// caller's app), instead of the app-compose GET .../compose_file
	// returns. The owner then approves what the hardware says runs plus
	// exactly the change. Its Time and collateral are needed as for Attest;
	// its compose expectation may be left empty (the app contract's
	// allowed hashes are used).
	AttestedBaseline *attest.Expected
	// AppID pins the caller's app (40 hex, optional "0x" or "app_"): the
	// 465's app id must be it, and the env key of EnvsChange is trusted
	// only for it. Required, unless the cvmID given to Run is the app id
	// ("app_" + 40 hex); both given must agree.
	AppID string
	// AddDevice registers the CVM's device (addDevice) when the app
	// contract allows neither it nor any device; without it Run fails
	// with ErrDeviceNotAllowed before registering anything. The device
	// registered is DeviceID, which the 465's device id must equal; with
	// DeviceID empty Run refuses, unless InsecureTrustAPIDeviceID.
	AddDevice bool
	// DeviceID names the device the caller allows AddDevice to register
	// (64 hex, optional 0x).
	DeviceID string
	// InsecureTrustAPIDeviceID lets AddDevice register the device id the
	// 465 answer names, unchecked: the API, or anyone between you and it,
	// then chooses a device your key allows to run the app.
	InsecureTrustAPIDeviceID bool
	// InsecureTrustAPIComposeHash registers the 465's compose hash without
	// recomputing it from the current app-compose and the change (and
	// without checking the current app-compose against the chain): the
	// API, or anyone between you and it, then chooses what your key
	// approves. Use it only for a change whose app-compose the SDK cannot
	// reproduce (Change.Edit nil; see the README); the 465's app id is
	// still checked.
	InsecureTrustAPIComposeHash bool
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
	// AppID is the app (40 hex, the caller's, checked against the 465);
	// the contract is at 0x + AppID.
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
	// Attestation is the report of Updater.Attest's verification (nil
	// without Attest).
	Attestation *attest.Report
	// Boot is what the app contract predicted for the CVM's device before
	// the registration (nil when no device was checked). With
	// Boot.RequireTcbUpToDate the CVM boots only if its TCB is up to date,
	// which the chain cannot tell.
	Boot *BootPrediction
	// Check is how the compose hash was verified before it was signed:
	// the current app-compose, the intended one and their hashes (nil when
	// the change needed no on-chain step, or under
	// InsecureTrustAPIComposeHash).
	Check *phala.ComposeCheck
}

// Run performs change on cvmID end to end; ctx bounds it all. Before any
// transaction it checks the 465: its app id must be the caller's
// (Updater.AppID or cvmID as an app id), and its compose hash the SDK's
// hash of the CVM's current app-compose with exactly change.Edit applied,
// where the current app-compose's own hash must be allowed on the app
// contract. A device is added only as AddDevice and DeviceID say.
//
// Errors: an ErrInvalidArgument error before any request for a malformed
// AppID, DeviceID or change; those of the change (an *phala.APIError: 467
// and 468 match phala.ErrTransactionVerificationFailed and
// ErrComposeHashNotAllowed); *phala.AppMismatchError,
// *phala.ComposeHashMismatchError, an error matching ErrCurrentNotAllowed,
// or an ErrInvalidArgument error naming Updater.AppID or change.Edit, each
// before anything is signed; *ChainMismatchError when Backend serves
// another chain than the CVM's KMS; *NoContractError, *RevertError,
// *InsufficientFundsError from the registration; ErrDeviceNotAllowed;
// *FinalityError (ErrFinalityUnavailable, ErrFinalityTimeout) from the
// finality wait, phase 2 not sent; an invalid Finality before anything is
// sent; WaitForUpdate's errors; ctx's.
func (u *Updater) Run(ctx context.Context, cvmID string, change Change) (*Outcome, error) {
	if u == nil || u.Client == nil {
		return nil, invalidArg("updater.Client", "is nil")
	}
	if change.Send == nil {
		return nil, invalidArg("change.Send", "is nil")
	}
	app, err := callerApp(cvmID, u.AppID)
	if err != nil {
		return nil, err
	}
	if u.DeviceID != "" {
		if _, err := parseBytes32("updater.DeviceID", u.DeviceID); err != nil {
			return nil, err
		}
	}
	if _, err := u.finality(); err != nil {
		return nil, err
	}
	if err := u.checkAttest(); err != nil {
		return nil, err
	}
	res, err := change.Send(ctx, Phase{AppID: app})
	if err != nil {
		return nil, err
	}
	out := &Outcome{Result: res}
	if res.RequiresOnChainHash {
		if err := u.register(ctx, cvmID, app, change, res, out); err != nil || out.Registration != nil && out.Registration.Receipt == nil {
			return out, err
		}
		if err := u.awaitFinality(ctx, out); err != nil {
			return out, err
		}
		if res, err = change.Send(ctx, Phase{ComposeHash: out.ComposeHash, TxHash: out.TxHash.Hex(), AppID: app}); err != nil {
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
	if u.Attest != nil {
		return out, u.attest(ctx, cvmID, app, out)
	}
	return out, nil
}

// register is the on-chain half: chain check, the 465 checked, allowed?,
// device, addComposeHash.
func (u *Updater) register(ctx context.Context, cvmID, appID string, change Change, res *phala.UpdateResult, out *Outcome) error {
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
	if err := checkAnswerApp(appID, res.AppID, "the 465 answer"); err != nil {
		return err
	}
	app, err := NewApp(u.Backend, appID)
	if err != nil {
		return err
	}
	out.AppID = appID
	if !u.InsecureTrustAPIComposeHash {
		if change.Edit == nil {
			return invalidArg("change.Edit", "is nil, so the compose hash %s of the 465 cannot be checked; nothing was signed "+
				"(build the change with ComposeChange, PatchChange or EnvsChange, or set Updater.InsecureTrustAPIComposeHash to approve the API's hash unchecked)", res.ComposeHash)
		}
		if out.Check, err = u.verify(ctx, app, cvmID, appID, change.Edit, res); err != nil {
			return err
		}
	}
	allowed, err := app.ComposeHashAllowed(ctx, res.ComposeHash)
	if err != nil {
		return err
	}
	if res.DeviceID != "" && !isCalldataOnly(u.Signer) {
		if out.Boot, err = u.ensureDevice(ctx, app, res.DeviceID); err != nil {
			return err
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
