package onchain

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// App is an app's DstackApp contract, whose address is "0x" + the app id
// (../shared/reference/phala-cloud-api.md, and @phala/cloud 0.2.9's
// addComposeHash, which calls "0x" + appId).
type App struct {
	b    Backend
	addr common.Address
}

// NewApp binds the app contract of appID: 40 hex digits, optionally
// prefixed "0x" or "app_". A malformed id gives an error matching
// phala.ErrInvalidArgument for field "appID". Nothing is read yet.
func NewApp(b Backend, appID string) (*App, error) {
	addr, err := parseAddress("appID", appID)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, invalidArg("backend", "is nil")
	}
	return &App{b: b, addr: addr}, nil
}

// Address is the contract address.
func (a *App) Address() common.Address { return a.addr }

// ComposeHashAllowed reads allowedComposeHashes(hash): whether a CVM with
// this compose hash (64 hex, optional 0x) may boot. Errors: an
// ErrInvalidArgument error for a malformed hash, *NoContractError, or an
// *RPCError.
func (a *App) ComposeHashAllowed(ctx context.Context, composeHash string) (bool, error) {
	h, err := parseBytes32("composeHash", composeHash)
	if err != nil {
		return false, err
	}
	return a.readBool(ctx, "allowedComposeHashes", h)
}

// DeviceAllowed reads allowedDeviceIds(deviceID) (64 hex, optional 0x).
// It does not consider AllowAnyDevice; DeviceCanBoot does.
func (a *App) DeviceAllowed(ctx context.Context, deviceID string) (bool, error) {
	d, err := parseBytes32("deviceID", deviceID)
	if err != nil {
		return false, err
	}
	return a.readBool(ctx, "allowedDeviceIds", d)
}

// AllowAnyDevice reads allowAnyDevice(): true when every device may boot
// the app.
func (a *App) AllowAnyDevice(ctx context.Context) (bool, error) {
	return a.readBool(ctx, "allowAnyDevice")
}

// DeviceCanBoot reports whether the app contract lets the device boot the
// app as far as the chain can tell: AllowAnyDevice || DeviceAllowed
// (the check @phala/cloud 0.2.9's checkOnChainPrerequisites makes). It
// also reads requireTcbUpToDate (PredictBoot): when it is set, the real
// DstackApp's isAppAllowed also refuses a boot whose TCB status is not
// "UpToDate", which only the boot attestation tells, so true then means
// "allowed if the device's TCB is up to date". Use PredictBoot to see the
// flag.
func (a *App) DeviceCanBoot(ctx context.Context, deviceID string) (bool, error) {
	p, err := a.PredictBoot(ctx, deviceID)
	if err != nil {
		return false, err
	}
	return p.CanBoot(), nil
}

// BootPrediction is what the app contract says about a device booting the
// app, read from the chain before the boot.
type BootPrediction struct {
	// AllowAnyDevice and DeviceAllowed are allowAnyDevice() and
	// allowedDeviceIds(device).
	AllowAnyDevice, DeviceAllowed bool
	// RequireTcbUpToDate is requireTcbUpToDate(): the contract refuses a
	// boot whose TCB status is not "UpToDate". The chain cannot know the
	// device's TCB status (the KMS reads it from the attestation at boot),
	// so with this set a CanBoot prediction holds only for a device whose
	// TCB is up to date.
	RequireTcbUpToDate bool
	// TcbFlagKnown is false for a DstackApp without the flag (versions
	// before it): requireTcbUpToDate() reverted without data, and
	// RequireTcbUpToDate is false, as such a contract behaves.
	TcbFlagKnown bool
}

// CanBoot is AllowAnyDevice || DeviceAllowed: the device passes the
// allow-list (see RequireTcbUpToDate for what it cannot know).
func (p *BootPrediction) CanBoot() bool { return p.AllowAnyDevice || p.DeviceAllowed }

// PredictBoot reads allowAnyDevice(), allowedDeviceIds(deviceID) (64 hex,
// optional 0x) and requireTcbUpToDate(). Errors: an ErrInvalidArgument
// error for a malformed device id; *NoContractError; *RevertError;
// *RPCError.
func (a *App) PredictBoot(ctx context.Context, deviceID string) (*BootPrediction, error) {
	d, err := parseBytes32("deviceID", deviceID)
	if err != nil {
		return nil, err
	}
	p := &BootPrediction{}
	if p.AllowAnyDevice, err = a.AllowAnyDevice(ctx); err != nil {
		return nil, err
	}
	if p.DeviceAllowed, err = a.readBool(ctx, "allowedDeviceIds", d); err != nil {
		return nil, err
	}
	if p.RequireTcbUpToDate, p.TcbFlagKnown, err = a.RequireTcbUpToDate(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// RequireTcbUpToDate reads requireTcbUpToDate(). known is false (and
// require false) for a contract without the getter, one that reverts the
// call without data, as a DstackApp from before the flag does behind its
// proxy. Errors: *NoContractError, *RevertError with data, *RPCError.
func (a *App) RequireTcbUpToDate(ctx context.Context) (require, known bool, err error) {
	v, err := a.readBool(ctx, "requireTcbUpToDate")
	var re *RevertError
	if errors.As(err, &re) && len(re.Data) == 0 {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return v, true, nil
}

// SetRequireTcbUpToDate sends setRequireTcbUpToDate(require), as
// AddComposeHash does (the contract's owner only).
func (a *App) SetRequireTcbUpToDate(ctx context.Context, s Signer, require bool, opts *TxOptions) (*Tx, error) {
	return a.send(ctx, s, "setRequireTcbUpToDate", opts, require)
}

// Owner reads owner(): the only account the contract accepts changes from.
func (a *App) Owner(ctx context.Context) (common.Address, error) {
	out, err := a.call(ctx, "owner")
	if err != nil {
		return common.Address{}, err
	}
	addr, ok := out[0].(common.Address)
	if !ok {
		return common.Address{}, fmt.Errorf("onchain: owner() answered %T", out[0])
	}
	return addr, nil
}

// AddComposeHash sends addComposeHash(hash) signed by s and waits for the
// receipt (opts.Confirmations), then checks that the receipt carries the
// contract's ComposeHashAdded event for hash. Errors: an
// ErrInvalidArgument error for a malformed hash; *NoContractError;
// *RevertError (e.g. OwnableUnauthorizedAccount when s is not the owner);
// *InsufficientFundsError before anything is sent; an error matching
// ErrNotRegistered when the receipt lacks the event; ctx's error. With
// CalldataOnly the *Tx holds only the Call.
func (a *App) AddComposeHash(ctx context.Context, s Signer, composeHash string, opts *TxOptions) (*Tx, error) {
	h, err := parseBytes32("composeHash", composeHash)
	if err != nil {
		return nil, err
	}
	tx, err := a.send(ctx, s, "addComposeHash", opts, h)
	if err != nil || tx.Receipt == nil {
		return tx, err
	}
	if !hasEvent(tx.Receipt, a.addr, "ComposeHashAdded", h[:]) {
		return nil, fmt.Errorf("%w: transaction %s emitted no ComposeHashAdded(0x%x) from %s", ErrNotRegistered, tx.Hash.Hex(), h, a.addr.Hex())
	}
	return tx, nil
}

// AddDevice sends addDevice(deviceID) (64 hex, optional 0x), as
// AddComposeHash does.
func (a *App) AddDevice(ctx context.Context, s Signer, deviceID string, opts *TxOptions) (*Tx, error) {
	d, err := parseBytes32("deviceID", deviceID)
	if err != nil {
		return nil, err
	}
	return a.send(ctx, s, "addDevice", opts, d)
}

// SetAllowAnyDevice sends setAllowAnyDevice(allow), as AddComposeHash does.
func (a *App) SetAllowAnyDevice(ctx context.Context, s Signer, allow bool, opts *TxOptions) (*Tx, error) {
	return a.send(ctx, s, "setAllowAnyDevice", opts, allow)
}

// FindRegistration looks for the ComposeHashAdded(hash) log of this
// contract between fromBlock (nil: 0) and the latest block and returns the
// transaction that emitted it, or ErrNotRegistered. Public RPC endpoints
// limit the block range of eth_getLogs: pass a recent fromBlock there.
func (a *App) FindRegistration(ctx context.Context, composeHash string, fromBlock *big.Int) (common.Hash, error) {
	h, err := parseBytes32("composeHash", composeHash)
	if err != nil {
		return common.Hash{}, err
	}
	if fromBlock == nil {
		fromBlock = new(big.Int)
	}
	logs, err := a.b.FilterLogs(ctx, ethereum.FilterQuery{FromBlock: fromBlock, Addresses: []common.Address{a.addr},
		Topics: [][]common.Hash{{appABI.Events["ComposeHashAdded"].ID}}})
	if err != nil {
		return common.Hash{}, rpcErr("eth_getLogs", err)
	}
	for i := len(logs) - 1; i >= 0; i-- {
		if bytes.Equal(logs[i].Data, h[:]) && !logs[i].Removed {
			return logs[i].TxHash, nil
		}
	}
	return common.Hash{}, fmt.Errorf("%w: no ComposeHashAdded(0x%x) log from %s since block %s", ErrNotRegistered, h, a.addr.Hex(), fromBlock)
}

// VerifyRegistration checks that txHash is a successful transaction whose
// receipt holds this contract's ComposeHashAdded(hash) event, as a server
// checks phase 2 of the on-chain flow. It returns nil, an error matching
// ErrNotRegistered (unknown, failed, or another contract or hash), or an
// *RPCError.
func (a *App) VerifyRegistration(ctx context.Context, composeHash, txHash string) error {
	h, err := parseBytes32("composeHash", composeHash)
	if err != nil {
		return err
	}
	t, err := parseBytes32("txHash", txHash)
	if err != nil {
		return err
	}
	rcpt, err := a.b.TransactionReceipt(ctx, common.Hash(t))
	if err != nil {
		if err == ethereum.NotFound {
			return fmt.Errorf("%w: transaction %s is not mined on this chain", ErrNotRegistered, common.Hash(t).Hex())
		}
		return rpcErr("eth_getTransactionReceipt", err)
	}
	if rcpt.Status != types.ReceiptStatusSuccessful {
		return fmt.Errorf("%w: transaction %s failed", ErrNotRegistered, common.Hash(t).Hex())
	}
	if !hasEvent(rcpt, a.addr, "ComposeHashAdded", h[:]) {
		return fmt.Errorf("%w: transaction %s emitted no ComposeHashAdded(0x%x) from %s", ErrNotRegistered, common.Hash(t).Hex(), h, a.addr.Hex())
	}
	return nil
}

func hasEvent(rcpt *types.Receipt, addr common.Address, event string, data []byte) bool {
	id := appABI.Events[event].ID
	for _, l := range rcpt.Logs {
		if l.Address == addr && len(l.Topics) > 0 && l.Topics[0] == id && bytes.Equal(l.Data, data) {
			return true
		}
	}
	return false
}

func (a *App) send(ctx context.Context, s Signer, method string, opts *TxOptions, args ...any) (*Tx, error) {
	if s == nil {
		return nil, invalidArg("signer", "is nil")
	}
	return transact(ctx, a.b, s, a.addr, "app contract", method, args, opts)
}

func (a *App) readBool(ctx context.Context, method string, args ...any) (bool, error) {
	out, err := a.call(ctx, method, args...)
	if err != nil {
		return false, err
	}
	v, ok := out[0].(bool)
	if !ok {
		return false, fmt.Errorf("onchain: %s answered %T", method, out[0])
	}
	return v, nil
}

func (a *App) call(ctx context.Context, method string, args ...any) ([]any, error) {
	data, err := appABI.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("onchain: encode %s: %w", method, err)
	}
	out, err := a.b.CallContract(ctx, ethereum.CallMsg{To: &a.addr, Data: data}, nil)
	if err != nil {
		if re := revertFrom(method, err); re != nil {
			return nil, re
		}
		return nil, rpcErr("eth_call", err)
	}
	if len(out) == 0 {
		chainID, cerr := checkChain(ctx, a.b, nil)
		if cerr != nil {
			return nil, cerr
		}
		if err := requireCode(ctx, a.b, "app contract", a.addr, chainID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("onchain: %s at %s answered nothing: not a DstackApp contract?", method, a.addr.Hex())
	}
	vals, err := appABI.Unpack(method, out)
	if err != nil || len(vals) == 0 {
		return nil, fmt.Errorf("onchain: decode %s from %s: not a DstackApp contract? (%v)", method, a.addr.Hex(), err)
	}
	return vals, nil
}

// parseAddress reads a 20-byte address: 40 hex digits with an optional
// "0x" or "app_" prefix.
func parseAddress(field, s string) (common.Address, error) {
	v := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(v, "0x"), strings.HasPrefix(v, "0X"):
		v = v[2:]
	case strings.HasPrefix(v, "app_"):
		v = v[4:]
	}
	if len(v) != 40 {
		return common.Address{}, invalidArg(field, "must be 20 bytes as 40 hex digits (optional 0x or app_), got %d characters", len(v))
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return common.Address{}, invalidArg(field, "is not hexadecimal")
	}
	return common.BytesToAddress(b), nil
}

// parseBytes32 reads 64 hex digits with an optional "0x".
func parseBytes32(field, s string) ([32]byte, error) {
	var out [32]byte
	v := strings.TrimSpace(s)
	if strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
		v = v[2:]
	}
	if len(v) != 64 {
		return out, invalidArg(field, "must be 32 bytes as 64 hex digits (optional 0x), got %d characters", len(v))
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return out, invalidArg(field, "is not hexadecimal")
	}
	copy(out[:], b)
	return out, nil
}
