// Package onchain finishes the on-chain KMS flow that package phala
// starts: it reads the KMS and app contracts through your RPC endpoint,
// checks what the API asks your key to sign, registers compose hashes and
// devices, waits for finality and sends phase 2. It is its own module
// (go-ethereum lives only here), so importing phala alone compiles no
// Ethereum code.
//
//	rpc, _ := ethclient.Dial(os.Getenv("RPC_URL")) // your endpoint, on the KMS's chain
//	anchor := onchain.NewKMSAnchor(rpc, onchain.WithKMSContracts(map[int64]common.Address{
//		8453: common.HexToAddress(baseKMS), // an address you confirmed
//	}))
//	u := &onchain.Updater{Client: client, Backend: rpc, Signer: signer, AppID: appID}
//	out, err := u.Run(ctx, "my-app", onchain.ComposeChange(client, "my-app", composeYAML))
//	_, err = u.Run(ctx, "my-app", onchain.EnvsChange(client, "my-app", envs, anchor))
//
// # Trust model
//
// The API's answer is never a root of trust. Each decision rests on a value
// you give, on the chain read through your Backend, or on data the SDK
// hashed itself; a value from the API is only compared with those:
//
//   - Which chain: the Backend you pass (eth_chainId). The CVM detail's
//     kms_info.chain_id must equal it ([*ChainMismatchError]).
//   - Which KMS contract roots the env key: the address you pin per chain
//     ([WithKMSContract], [WithKMSContracts]); a chain without a pin is
//     refused ([ErrKMSNotPinned]). The detail's dstack_kms_address must
//     equal the pin (phala.ErrKeyVerification, naming both); its
//     k256_pubkey is shown, never used.
//   - Which KMS signer: kmsInfo().k256Pubkey at the pinned contract; the env
//     key's signature must recover exactly it.
//   - Whose key encrypts: the app you named (Updater.AppID, or a cvmID that
//     is an app id); the pinned KMS contract must list it in registeredApps
//     ([ErrAppNotRegistered]); a detail naming another app is refused.
//   - Which app contract gets an approval: the app you named; a 465 naming
//     another is refused (*phala.AppMismatchError).
//   - Which compose hash is approved: the SDK's SHA-256 of the current
//     app-compose with exactly your change (Change.Edit) applied; the 465's
//     hash must equal it (*phala.ComposeHashMismatchError, naming both
//     hashes and the differing fields), and the current app-compose, which
//     comes from the API, is accepted only because your app contract
//     already allows its hash ([ErrCurrentNotAllowed]). With
//     Updater.AttestedBaseline the current app-compose is instead the
//     running CVM's attested one (package phala/attest: the bytes whose
//     hash the TDX quote binds, verified to Intel's root).
//   - Which device is added: only Updater.DeviceID with AddDevice; the 465's
//     device id is read for the boot prediction only ([App.PredictBoot],
//     which reads allowAnyDevice, the allowed devices and
//     requireTcbUpToDate; a device's TCB status is not on chain).
//
// Nothing is signed and nothing is encrypted before these checks pass. The
// opt-outs are named and never defaults: phala.InsecureTrustAPISigner,
// Updater.InsecureTrustAPIComposeHash and Updater.InsecureTrustAPIDeviceID.
// A change whose app-compose the SDK cannot rebuild (a Change without Edit,
// such as [PreLaunchScriptUpgradeChange], whose script the server picks;
// an empty pre-launch script, which the server replaces by its default) is
// refused unless InsecureTrustAPIComposeHash is set.
//
// The package ships no default KMS contract: pin the one of each chain you
// use after confirming it. Base mainnet's DstackKms (Phala's "KmsAuth") at
// 0x2f83172A49584C017F2B256F0FB2Dca14126Ba9C is stated by third parties
// (Lit Protocol's "On-Chain KMS" developer page, public deployment
// scripts); Phala lists the addresses per chain on its "Cloud vs Onchain
// KMS" page. Confirm on a block explorer that kmsInfo() publishes the root
// key and that your app is in registeredApps.
//
// # Finality
//
// A registration that a reorg removes leaves an update the KMS will not
// serve, so Updater.Run waits before phase 2 until the registering
// transaction is in the chain's "safe" block by default (Updater.Finality:
// FinalityFinalized, or FinalityNone for confirmations alone); progress
// events say the stage and its expected wait.
//
// # Multisig
//
// PatchCVM with PrepareOnly returns a commit token; [VerifyPrepared] checks
// the prepared hash against the intended change before the signers are
// asked; [App.AddComposeHash] with [CalldataOnly] gives the Safe's call;
// once executed, phala's Client.CommitCVMUpdate commits with the token.
package onchain
