package onchain

import (
	"context"
	"fmt"
	"strings"

	"github.com/phalacloud/go-sdk/phala"
)

// callerApp returns the app the caller named, 40 lowercase hex: pinned
// (Updater.AppID) or the app id cvmID is ("app_" + 40 hex, or 40 hex);
// "" when neither names one. Both given and different, or a malformed pin,
// is an ErrInvalidArgument error.
func callerApp(cvmID, pinned string) (string, error) {
	fromID := ""
	id := strings.TrimSpace(cvmID)
	if v := strings.TrimPrefix(id, "app_"); len(v) == 40 {
		if a, err := parseAddress("cvmID", v); err == nil {
			fromID = hexLower(a.Bytes())
		}
	}
	if pinned == "" {
		return fromID, nil
	}
	a, err := parseAddress("updater.AppID", pinned)
	if err != nil {
		return "", err
	}
	p := hexLower(a.Bytes())
	if fromID != "" && fromID != p {
		return "", invalidArg("updater.AppID", "pins app %s, but cvmID names app %s", p, fromID)
	}
	return p, nil
}

func hexLower(b []byte) string { return fmt.Sprintf("%x", b) }

// checkAnswerApp refuses an answer naming another app than the caller's.
func checkAnswerApp(want, answerApp, answer string) error {
	if want == "" {
		return invalidArg("updater.AppID", "is empty and the CVM is not named by its app id: pin the app whose compose hash you approve "+
			"(Updater.AppID, 40 hex), or name the CVM \"app_\" + its app id; nothing was signed")
	}
	got := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(answerApp), "app_"), "0x"))
	if got != want {
		return &phala.AppMismatchError{Want: want, Got: got, Answer: answer}
	}
	return nil
}

// verifyChange recomputes composeHash from the CVM's current app-compose
// and edit (phala's CheckComposeChange, which also checks answerApp), and
// requires the current app-compose to be one the app contract allows: the
// document the API serves as "what the CVM runs now" is the API's word,
// and the chain is what says the owner approved it.
func verifyChange(ctx context.Context, c *phala.Client, app *App, cvmID, appID string, edit *phala.PatchCVMRequest, answerApp, composeHash string) (*phala.ComposeCheck, error) {
	ck, err := c.CheckComposeChange(ctx, cvmID, appID, edit, answerApp, composeHash)
	if err != nil {
		return nil, err
	}
	for _, h := range []string{ck.CurrentHash, ck.CurrentHashDstack} {
		ok, err := app.ComposeHashAllowed(ctx, h)
		if err != nil {
			return nil, err
		}
		if ok {
			return ck, nil
		}
	}
	return nil, fmt.Errorf("%w: the current app-compose the API serves hashes to %s (dstack form %s), which app contract %s does not allow: "+
		"it is not a document the owner approved, so a change built on it is not signed", ErrCurrentNotAllowed, ck.CurrentHash, ck.CurrentHashDstack, app.Address().Hex())
}

// VerifyPrepared checks a prepare-only PatchCVM answer (the multisig path)
// before the signers are asked to approve its compose hash: prepared's app
// id must be appID (or the app id cvmID is), its compose hash the hash of
// the CVM's current app-compose with exactly req's app-compose fields
// applied (phala.Client.VerifyPreparedUpdate), and the current
// app-compose's own hash must be allowed on the app contract, read through
// b. Only then propose addComposeHash(check.Hash) to the signers
// (AddComposeHash with CalldataOnly) and, once executed, commit with
// phala.Client.CommitCVMUpdate.
//
// Errors: an ErrInvalidArgument error for a nil argument or an app not
// named; *phala.AppMismatchError; *phala.ComposeHashMismatchError; an error
// matching ErrCurrentNotAllowed; the errors of the reads.
func VerifyPrepared(ctx context.Context, c *phala.Client, b Backend, cvmID, appID string, req *phala.PatchCVMRequest, prepared *phala.PatchCVMResponse) (*phala.ComposeCheck, error) {
	if c == nil {
		return nil, invalidArg("client", "is nil")
	}
	if prepared == nil {
		return nil, invalidArg("prepared", "is nil")
	}
	want, err := callerApp(cvmID, appID)
	if err != nil {
		return nil, err
	}
	if err := checkAnswerApp(want, prepared.AppID, "the prepare-only answer"); err != nil {
		return nil, err
	}
	app, err := NewApp(b, want)
	if err != nil {
		return nil, err
	}
	return verifyChange(ctx, c, app, cvmID, want, req, prepared.AppID, prepared.ComposeHash)
}

// ensureDevice makes sure the CVM's device may boot the app: read whether
// the contract allows it (the 465's device id: a read, no approval), and
// if not, add the device the caller named, as AddDevice permits. It
// returns what the chain predicts for the device.
func (u *Updater) ensureDevice(ctx context.Context, app *App, apiDevice string) (*BootPrediction, error) {
	p, err := app.PredictBoot(ctx, apiDevice)
	if err != nil || p.CanBoot() {
		return p, err
	}
	return p, u.addDevice(ctx, app, apiDevice)
}

func (u *Updater) addDevice(ctx context.Context, app *App, apiDevice string) error {
	if !u.AddDevice {
		return fmt.Errorf("%w: device %s on %s (set Updater.AddDevice and name the device in Updater.DeviceID to register it)", ErrDeviceNotAllowed, apiDevice, app.Address().Hex())
	}
	dev := u.DeviceID
	switch {
	case dev == "" && u.InsecureTrustAPIDeviceID:
		dev = apiDevice
	case dev == "":
		return fmt.Errorf("%w: the 465 answer names device %s; register it only if you know it: name it in Updater.DeviceID "+
			"(or set Updater.InsecureTrustAPIDeviceID to take the API's word); nothing was signed", ErrDeviceNotAllowed, apiDevice)
	default:
		a, _ := parseBytes32("updater.DeviceID", dev)
		b, err := parseBytes32("deviceID", apiDevice)
		if err != nil {
			return err
		}
		if a != b {
			return fmt.Errorf("%w: the 465 answer names device %s, you named %s; nothing was signed", ErrDeviceNotAllowed, apiDevice, dev)
		}
	}
	_, err := app.AddDevice(ctx, u.Signer, dev, u.Tx)
	return err
}
