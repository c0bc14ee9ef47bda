// Package phala is a Go client for the Phala Cloud API: it deploys and
// reconfigures confidential VMs (CVMs) that run Docker Compose apps inside
// Intel TDX on the dstack stack.
//
// It covers the CVM configuration API: the compose file, the pre-launch
// script (and its upgrade to the latest official one), encrypted
// environment variables, resources, visibility, marketplace listing, the
// OS image, the unified patch and the two-step compose update, including
// the on-chain KMS two-phase flow; and it reads the CVM's attestation
// (unverified: the quote and event log for a verifier). Env encryption and compose hashes match the
// official JavaScript packages byte for byte.
//
// # Quick start
//
// Create one [Client] and share it: it is safe for concurrent use.
// [NewClient] reads the API key from $PHALA_CLOUD_API_KEY unless
// [WithAPIKey] gives one, and the API root from $PHALA_CLOUD_API_PREFIX
// unless [WithBaseURL] does ([DefaultBaseURL] otherwise).
//
//	client, err := phala.NewClient(phala.WithAPIKey(os.Getenv("PHALA_CLOUD_API_KEY")))
//	if err != nil {
//		log.Fatal(err)
//	}
//	result, err := client.UpdateDockerCompose(ctx, "my-app", composeYAML, nil)
//	if err != nil {
//		log.Fatal(err)
//	}
//	if result.RequiresOnChainHash {
//		// On-chain KMS: register result.ComposeHash on the app contract,
//		// then repeat the call with ComposeUpdateOptions{ComposeHash, TransactionHash}.
//		return
//	}
//	state, err := client.WaitForUpdate(ctx, "my-app", result, nil) // until the CVM runs the change
//
// UpdateCVMResources, UpdateOSImage and CommitCVMComposeFileUpdate return
// only an error; to wait for their update, call them with a context from
// WithUpdateResult and pass the UpdateResult it fills to WaitForUpdate.
//
// Every method takes a context first; its deadline and cancellation bound
// the whole call, retries included. A nil context is refused.
//
// # CVM ids
//
// Every cvmID argument accepts each id form the API does: the hashed id
// ("cvm_..."), the VM UUID (with or without dashes), the app id ("app_" +
// 40 hex, or the bare 40 hex), the instance id, the integer id of the
// 2025-10-28 detail, or the CVM's name. It is normalised as the official
// SDKs do (a UUID loses its dashes, a bare 40-hex app id gets "app_") and
// always path-escaped; an id with "/", white space, control characters or
// invalid UTF-8 is refused with an [ErrInvalidArgument] error naming
// "cvmID" before anything is sent.
//
// # Errors
//
// Each method returns one of these, all usable with [errors.Is] and
// [errors.As]:
//
//   - [*InvalidArgumentError], matching [ErrInvalidArgument]: the SDK
//     refused the caller's input before sending anything (the error names
//     the argument or field, never its value). Fix the call; retrying does
//     not help. Compare [ErrValidation], which is the server's refusal.
//   - [*APIError]: the API answered with a status that is not the
//     operation's success. It carries the status, the "ERR-..." code
//     ([APIError.Code], compare with the Code* constants), message, request
//     id, details, suggestions, links and FastAPI validation problems.
//     errors.Is matches it against the sentinel of its status:
//     [ErrNotFound], [ErrConflict], [ErrValidation] (422: the server
//     refused the request body), [ErrRateLimited], the on-chain statuses
//     [ErrComposeHashExpired] (466), [ErrTransactionVerificationFailed]
//     (467), [ErrComposeHashNotAllowed] (468), and so on.
//     [APIError.Retryable] says whether the same request may succeed later.
//   - [*UnexpectedResponseError], matching [ErrUnexpectedResponse]: a
//     success status whose body is not an API answer (a proxy's HTML page,
//     malformed JSON, an accepted update without a correlation id). The
//     change may or may not have been applied: read the CVM before
//     repeating it.
//   - [*KeyVerificationError], matching [ErrKeyVerification]: the env
//     encryption key could not be shown to be the KMS's (see the trust
//     model below). Nothing was encrypted or sent.
//   - [*TransportError]: no answer (DNS, connection, timeout, a body cut
//     mid-read), after the retries the policy allows.
//   - [ErrMissingAPIKey]: a call that needs a key had none.
//
// No error, log line, hook payload or %v output of the SDK holds the API
// key, a commit token (passed to [Client.CommitCVMUpdate] or received from
// [Client.PatchCVM]) or an env value handed to [Client.EncryptAndUpdateEnvs]:
// every byte from the server passes a scrubber first, and every text built
// from those bytes (an error's fields, a body excerpt, a stream's error
// message) is scrubbed again. An error after retries says how many attempts
// were made over how long.
//
// # Retries and budgets
//
// Each HTTP attempt is bounded by [WithTimeout] ([DefaultTimeout], 60 s).
// The [RetryPolicy] ([DefaultRetryPolicy]: 3 attempts, jittered waits,
// Retry-After honoured up to 10 s) retries what cannot apply a change
// twice: a request that never reached the server, 429, 503 and a 409
// without an error code; reads also on 502, 504 and read errors. A change
// (PATCH, POST) that may have reached the server is never retried. The
// waits of one method call, over all the requests it makes, never exceed
// RetryPolicy.MaxTotalWait (15 s), and a wait that would end after the
// context's deadline is not started: the answer comes back at once.
// [WithoutRetries] makes every call one attempt; [WithHooks] and
// [WithLogger] observe every attempt and retry.
//
// # The on-chain KMS two-phase flow
//
// A CVM whose KMS lives on-chain accepts a new compose only once its hash
// is registered on the app contract. Phase 1 is a result, not an error:
// the update methods answer the API's 465 with
// [UpdateResult]{RequiresOnChainHash: true, ComposeHash, AppID, KMSInfo} (or a [PatchCVMResponse] with the
// multisig commit token). Register ComposeHash, then repeat the call with
// the compose hash and the transaction hash (ComposeUpdateOptions,
// UpdateEnvsOptions, [Client.ConfirmCVMPatch] or [Client.CommitCVMUpdate]).
// Register the hash the server returned only once it is checked: the
// hash of the CVM's current app-compose with exactly your change applied
// ([CheckComposeHash], [Client.CheckComposeChange]; for the multisig path
// [Client.VerifyPreparedUpdate]), so that your key never approves a
// document the API chose.
//
// The module github.com/phalacloud/go-sdk/onchain (its own go.mod, so
// that importing phala compiles no Ethereum code) does the whole flow:
// onchain.Updater.Run sends the update, registers the hash with your
// signer, waits for the receipt, sends phase 2 and waits until the CVM
// runs the change, after checking the 465's app id and compose hash. It
// also gives a [KeyAnchor] that reads the KMS signer from the KMS contract
// you pin for the chain.
//
// # Trust model for env encryption
//
// Env values are encrypted on your machine ([EncryptEnvVars]) to an X25519
// key that only the CVM's KMS can use. [Client.EncryptAndUpdateEnvs] does the whole
// round: it fetches the key ([Client.GetEnvEncryptPublicKey]), checks it,
// encrypts and sends. On an on-chain KMS the key is signed by the KMS's
// secp256k1 root key, and the SDK encrypts only when that signer equals the
// one your [KeyAnchor] trusts: [PinnedSigner] (a key you obtained out of
// band), the onchain module's contract reader, or your own. Give the anchor
// for the client ([WithKeyAnchor]) or per call (EnvKeyOptions.Anchor).
// The key must also be the key of an app you named: name the CVM by its
// app id, or set EnvKeyOptions.AppID. Without an anchor an on-chain key is refused; a central KMS's unsigned
// key is used as the API gives it, vouched for by TLS alone, and refused
// while an anchor is in effect. [InsecureTrustAPISigner] is the explicit
// opt-out: the API then chooses the key your secrets are encrypted to.
//
// # API versions
//
// Every request carries X-Phala-Version: [DefaultAPIVersion] or what
// [WithAPIVersion] sets, one of [SupportedAPIVersions]. [Client.GetCVMInfo]
// decodes the detail of each version (the legacy 2025-10-28 shape and the
// nested one) into the same [CVMInfo].
//
// # Testing
//
// Package github.com/phalacloud/go-sdk/phala/phalatest is an in-memory
// Phala Cloud that validates every request and answer against the
// OpenAPI document, decrypts env updates, runs the on-chain flow and the
// update life cycle and injects faults:
//
//	srv := phalatest.NewTestServer(t)
//	client := srv.Client()
//
// The command github.com/phalacloud/go-sdk/cmd/phala-fake serves the same
// over HTTP for tests in other languages. Package
// github.com/phalacloud/go-sdk/gen is the generated low-level binding, for
// endpoints this package does not wrap, outside its compatibility promise.
package phala
