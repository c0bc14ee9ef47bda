// Package phalatest is an in-memory Phala Cloud for tests and local runs.
//
// A Server speaks the API's wire format under /api/v1, routes and
// validates every request against the SDK's OpenAPI document (a request
// the document refuses gets FastAPI's 422 body), checks its own answers
// against it, and keeps the state of its CVMs: compose file, pre-launch
// script, app-compose and compose hash, encrypted environment variables
// (really decrypted with a per-app X25519 key and filtered by
// allowed_envs), resources, visibility and OS image.
//
//	srv := phalatest.NewTestServer(t)          // closed when the test ends
//	client := srv.Client()                     // a *phala.Client pointed at it
//	_, err := client.UpdateDockerCompose(ctx, phalatest.CentralCVMName, compose, nil)
//	env := srv.Envs(phalatest.CentralCVMName)  // what the VM would see
//
// Beyond the document, it refuses what the cloud refuses, with the
// cloud's 400 and ERR- code, and applies nothing: a Docker Compose file
// that is not YAML with a non-empty services mapping (ERR-01-003), and
// vcpu, memory (MB) or disk_size (GB) outside MinVCPU..MaxVCPU,
// MinMemoryMB..MaxMemoryMB and MinDiskGB..MaxDiskGB (ERR-02-008; memory 8
// is refused, 8 GB is 8192). The API documents the units but no bounds:
// these are the fake's, chosen to catch unit mistakes (see MinMemoryMB).
// WithCVM seeds obey the same rules (NewServer panics otherwise).
//
// Two CVMs are seeded: CentralCVMName on the central KMS and
// OnChainCVMName on an on-chain KMS (Base, chain id 8453); WithCVM adds
// more. Each answers to every id form: hashed id, VM UUID with or without
// dashes, app_<hex>, bare app id, instance_<hex>, integer id and name.
//
// GET /cvms/{id} answers in the shape of the request's X-Phala-Version: a
// version before 2026-01-21 (such as 2025-10-28) gets the legacy detail
// (integer id, flat vcpu, memory in MB, disk_size), 2026-01-21, 2026-05-22, 2026-06-23
// or no header the current detail (cvm_... id, nested resource). The
// visibility PATCH answers the legacy VM object in every version.
//
// The on-chain KMS signs each app's env encryption key with one secp256k1
// key (WithKMSKey fixes it); KMSSigner returns its public key, which a
// client pins to be allowed to encrypt to the on-chain CVM:
//
//	anchor, _ := phala.PinnedSigner(srv.KMSSigner())
//	client := srv.Client(phala.WithKeyAnchor(anchor))
//
// On the on-chain CVM a change of the compose file, pre-launch script or
// allowed env keys answers 465 and remembers the new compose hash;
// RegisterComposeHash stands in for the app contract and returns the
// transaction hash that the repeated (or confirming) request must carry.
// An unregistered hash answers 468, a wrong transaction 467, an expired
// pending hash or a hash that is not the change's 466. Visibility flags
// change the compose hash too but are applied without the two phases.
// The 465 body is the API's structured one: every value (with
// X-Prepare-Only on PATCH /cvms/{id}, the commit token, commit URLs and
// on-chain status too) is a details entry.
//
// Update answers are the API's: 202 {status: "in_progress", message,
// correlation_id} on every update endpoint (resources, OS image and the
// compose file commit included), and 200 {status: "no_change"} when the
// compose file, pre-launch script or env set sent is what already runs
// (nothing is applied); so does PATCH /cvms/{id} when it touches only the
// app-compose and leaves its hash as it is. A provision answer says
// compose_unchanged.
//
// An accepted update keeps the CVM "updating" for WithUpdateDelay (or,
// after HoldUpdates, until FinishUpdates or ReleaseUpdates: the test
// decides when it ends);
// WithRestartLag delays the start of that phase, the CVM still "running"
// meanwhile, as the real API's background job does. Other mutating calls
// meanwhile answer 409. InjectFaults simulates latency,
// 429, 500, 503 and dropped connections, before or after the change is
// applied; Requests and Applied let a test prove what reached the server
// and that nothing was applied twice.
//
// GET /cvms/{id}/state with ?target= and Accept: text/event-stream
// answers a server-sent-event stream: a "state" event at once and on every
// change, then "complete" when the status equals the target, "error" when
// the boot failed (FailNextBoot) or "timeout" when the stream's timeout
// passed (scaled by WithStreamTimeScale, capped by WithMaxStreamDuration).
// DropStreams ends streams early, WithoutStreaming answers JSON instead,
// and Streams lists what each stream sent and how it ended. Only the
// status and headers of a stream are checked against the OpenAPI
// document as an answer; each event's data is checked against the
// CVMState schema.
//
// GET /cvms/{id}/attestation answers a recorded Phala Cloud production
// attestation (its real TDX quote, event log and app-compose; see
// SampleAttestationAppID) for a running CVM, and is_online false
// otherwise; SetAttestation replaces the answer. PATCH /cvms/{id}/listed
// sets the flag in place. The pre-launch script upgrade status and the
// upgrade to the latest official script (OfficialPreLaunchScripts) take
// the same two phases as a pre-launch script update. A newer prepare-only
// PATCH supersedes the CVM's earlier commit tokens (466 at commit).
//
// The compose hash is phala.DumpAppComposeHash of the app-compose. Not
// modelled: the multisig commit endpoint, multipart uploads, workspaces,
// the limit of 5 streams per user.
package phalatest
