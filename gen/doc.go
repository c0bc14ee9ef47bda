// Package gen is the low-level binding of the Phala Cloud API, generated
// by oapi-codegen v2.8.2 with its stock templates from
// openapi/phala-cloud.yaml: the document's wire types, one request builder
// per operation (NewGetCVMInfoRequest, ...) and the clients Client and
// ClientWithResponses. Package phala builds its requests with these
// builders and decodes the answers into these types.
//
// Use package github.com/phalacloud/go-sdk/phala instead. The facade
// refuses bad input before sending, escapes ids, sends the API key and
// X-Phala-Version, retries, turns every non-success answer into a
// *phala.APIError, and carries the on-chain KMS flow and env encryption;
// gen does none of that. gen is for what the facade does not wrap: a query
// parameter, body field or operation of the document that phala does not
// expose yet, or the raw answer of a call. Its clients take the base URL
// with the /api/v1 prefix (phala.DefaultBaseURL); set X-Phala-Version in
// each operation's params (XPhalaVersion; phala.DefaultAPIVersion is the
// version the facade sends, except on GetKMSEnvEncryptPublicKey, which it
// sends as 2026-05-22 as the official SDKs do) and X-API-Key yourself, e.g. with
// WithRequestEditorFn.
//
// gen carries no compatibility promise: it is regenerated whenever the
// document or the generator changes, and any of its names, types and
// signatures may change in any release. phala's exported API does not use
// gen types, so a program that imports only phala is unaffected.
//
// client.gen.go is generated: change openapi/phala-cloud.yaml or
// gen/oapi-codegen.yaml and run `go generate ./...` (make check-generated
// fails when the committed file is stale). This file is hand-written.
package gen
