package onchain

import (
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

// appABIJSON is the part of the dstack app contract (DstackApp, at
// "0x" + app id) that this package calls. The signatures are facts read
// from @phala/cloud 0.2.9 (appAuthAbi, dstackAppAbi in
// dist/index.js) and Dstack-TEE/dstack kms/auth-eth/contracts/DstackApp.sol:
// addComposeHash(bytes32) (selector 0xdfc77223, also in
// ../shared/reference/phala-cloud-api.md), allowedComposeHashes(bytes32),
// addDevice(bytes32), allowedDeviceIds(bytes32), setAllowAnyDevice(bool),
// allowAnyDevice(), owner(), requireTcbUpToDate() and
// setRequireTcbUpToDate(bool) (newer DstackApp versions, with the event
// RequireTcbUpToDateSet(bool); facts from Dstack-TEE/dstack
// kms/auth-eth's IAppAuthBasicManagement and its tests), the event
// ComposeHashAdded(bytes32) (not
// indexed: the hash is the log's data) and the custom error
// OwnableUnauthorizedAccount(address) of OpenZeppelin's Ownable.
const appABIJSON = `[
{"type":"function","name":"addComposeHash","stateMutability":"nonpayable","inputs":[{"name":"composeHash","type":"bytes32"}],"outputs":[]},
{"type":"function","name":"removeComposeHash","stateMutability":"nonpayable","inputs":[{"name":"composeHash","type":"bytes32"}],"outputs":[]},
{"type":"function","name":"allowedComposeHashes","stateMutability":"view","inputs":[{"name":"","type":"bytes32"}],"outputs":[{"name":"","type":"bool"}]},
{"type":"function","name":"addDevice","stateMutability":"nonpayable","inputs":[{"name":"deviceId","type":"bytes32"}],"outputs":[]},
{"type":"function","name":"allowedDeviceIds","stateMutability":"view","inputs":[{"name":"","type":"bytes32"}],"outputs":[{"name":"","type":"bool"}]},
{"type":"function","name":"setAllowAnyDevice","stateMutability":"nonpayable","inputs":[{"name":"_allowAnyDevice","type":"bool"}],"outputs":[]},
{"type":"function","name":"allowAnyDevice","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"bool"}]},
{"type":"function","name":"owner","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"address"}]},
{"type":"function","name":"requireTcbUpToDate","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"bool"}]},
{"type":"function","name":"setRequireTcbUpToDate","stateMutability":"nonpayable","inputs":[{"name":"requireUpToDate","type":"bool"}],"outputs":[]},
{"type":"event","name":"ComposeHashAdded","anonymous":false,"inputs":[{"name":"composeHash","type":"bytes32","indexed":false}]},
{"type":"event","name":"DeviceAdded","anonymous":false,"inputs":[{"name":"deviceId","type":"bytes32","indexed":false}]},
{"type":"event","name":"AllowAnyDeviceSet","anonymous":false,"inputs":[{"name":"allowAny","type":"bool","indexed":false}]},
{"type":"event","name":"RequireTcbUpToDateSet","anonymous":false,"inputs":[{"name":"requireUpToDate","type":"bool","indexed":false}]},
{"type":"error","name":"OwnableUnauthorizedAccount","inputs":[{"name":"account","type":"address"}]},
{"type":"error","name":"OwnableInvalidOwner","inputs":[{"name":"owner","type":"address"}]}
]`

// kmsABIJSON is the KMS contract's (DstackKms, at
// kms_info.kms_contract_address) public getter of its KmsInfo struct: a
// fact from Dstack-TEE/dstack kms/auth-eth/contracts/DstackKms.sol, where
// `KmsInfo public kmsInfo` holds (bytes k256Pubkey, bytes caPubkey, bytes
// quote, bytes eventlog); @phala/cloud 0.2.9's kmsAuthAbi does not list it.
const kmsABIJSON = `[
{"type":"function","name":"kmsInfo","stateMutability":"view","inputs":[],"outputs":[
 {"name":"k256Pubkey","type":"bytes"},{"name":"caPubkey","type":"bytes"},{"name":"quote","type":"bytes"},{"name":"eventlog","type":"bytes"}]},
{"type":"function","name":"registeredApps","stateMutability":"view","inputs":[{"name":"","type":"address"}],"outputs":[{"name":"","type":"bool"}]},
{"type":"event","name":"KmsInfoSet","anonymous":false,"inputs":[{"name":"k256Pubkey","type":"bytes","indexed":false}]}
]`

var (
	appABI = mustABI(appABIJSON)
	kmsABI = mustABI(kmsABIJSON)
)

func mustABI(s string) abi.ABI {
	a, err := abi.JSON(strings.NewReader(s))
	if err != nil {
		panic("onchain: bad built-in ABI: " + err.Error())
	}
	return a
}

// AppABI returns the JSON ABI of the app-contract functions, events and
// errors this package uses, e.g. to build a multisig proposal elsewhere.
func AppABI() string { return appABIJSON }

// KMSABI returns the JSON ABI of the KMS-contract getter this package reads.
func KMSABI() string { return kmsABIJSON }
