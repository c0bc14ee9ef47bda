package phala

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/phalacloud/go-sdk/gen"
)

// ComposeCheck is a compose hash the SDK reproduced: the CVM's current
// app-compose, the app-compose the caller's change makes of it, and the
// hash both the SDK and the API give that document.
type ComposeCheck struct {
	// Current is the CVM's app-compose as GET /cvms/{id}/compose_file
	// served it (the API's word: the onchain module also checks that its
	// hash is allowed on the app contract); CurrentHash and
	// CurrentHashDstack are its hashes in the dump and dstack forms.
	Current                        *AppCompose
	CurrentHash, CurrentHashDstack string
	// Expected is Current with exactly the change's app-compose fields
	// applied.
	Expected *AppCompose
	// Hash is the verified compose hash, 64 lowercase hex: the SDK's hash
	// of Expected (dump or dstack form), equal to the API's.
	Hash string
	// Changed lists the app-compose fields the change alters, sorted.
	Changed []string
}

// composeField is one app-compose field a PatchCVMRequest can set.
type composeField struct {
	name  string
	set   bool
	apply func(*AppCompose)
}

func composeFields(r *PatchCVMRequest) []composeField {
	flag := func(dst func(*AppCompose) **bool, v *bool) func(*AppCompose) {
		return func(a *AppCompose) { *dst(a) = Bool(*v) }
	}
	return []composeField{
		{"docker_compose_file", r.DockerComposeFile != nil, func(a *AppCompose) { a.DockerComposeFile = String(*r.DockerComposeFile) }},
		{"pre_launch_script", r.PreLaunchScript != nil, func(a *AppCompose) { a.PreLaunchScript = String(*r.PreLaunchScript) }},
		{"allowed_envs", r.AllowedEnvs != nil, func(a *AppCompose) { a.AllowedEnvs = append([]string{}, r.AllowedEnvs...) }},
		{"public_logs", r.PublicLogs != nil, flag(func(a *AppCompose) **bool { return &a.PublicLogs }, r.PublicLogs)},
		{"public_sysinfo", r.PublicSysinfo != nil, flag(func(a *AppCompose) **bool { return &a.PublicSysinfo }, r.PublicSysinfo)},
		{"public_tcbinfo", r.PublicTcbinfo != nil, flag(func(a *AppCompose) **bool { return &a.PublicTcbinfo }, r.PublicTcbinfo)},
		{"secure_time", r.SecureTime != nil, flag(func(a *AppCompose) **bool { return &a.SecureTime }, r.SecureTime)},
	}
}

// ExpectedAppCompose returns a copy of current with the app-compose fields
// of change applied, and nothing else: DockerComposeFile
// (docker_compose_file), PreLaunchScript, AllowedEnvs (in the order given,
// as sent), PublicLogs, PublicSysinfo, PublicTcbinfo and SecureTime. The
// other fields (resources, image, env values, ...) are not part of the
// app-compose and are ignored. A known field set to JSON null in current
// is replaced; unknown fields are kept as they are.
//
// Errors match ErrInvalidArgument: a nil argument; a change that sets none
// of those fields; PreLaunchScript "" (the server then restores its
// default script, a document the SDK cannot reproduce, so it refuses
// rather than guess).
func ExpectedAppCompose(current *AppCompose, change *PatchCVMRequest) (*AppCompose, error) {
	if current == nil {
		return nil, invalidArg("current", "is nil")
	}
	if change == nil {
		return nil, invalidArg("change", "is nil")
	}
	if change.PreLaunchScript != nil && *change.PreLaunchScript == "" {
		return nil, invalidArg("change.PreLaunchScript", "is empty: the server restores its default pre-launch script, "+
			"which the SDK cannot reproduce to check the compose hash; give the script text")
	}
	out, err := cloneAppCompose(current)
	if err != nil {
		return nil, err
	}
	set := false
	for _, f := range composeFields(change) {
		if f.set {
			f.apply(out)
			delete(out.Extra, f.name)
			set = true
		}
	}
	if !set {
		return nil, invalidArg("change", "sets no app-compose field (docker_compose_file, pre_launch_script, allowed_envs, public_* flags, secure_time)")
	}
	return out, nil
}

// CheckComposeHash checks that got (the API's compose hash, 64 hex,
// optional 0x) is the hash of current with exactly change applied
// (ExpectedAppCompose), in Phala Cloud's serialisation (DumpAppComposeHash)
// or the dstack form (ComposeHash). Errors: ExpectedAppCompose's; an
// ErrInvalidArgument error for a malformed got; a
// *ComposeHashMismatchError naming both hashes and the fields that differ.
func CheckComposeHash(current *AppCompose, change *PatchCVMRequest, got string) (*ComposeCheck, error) {
	if err := checkComposeHash("composeHash", got); err != nil {
		return nil, err
	}
	got = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(got, "0x"), "0X"))
	expected, err := ExpectedAppCompose(current, change)
	if err != nil {
		return nil, err
	}
	ck := &ComposeCheck{Current: current, Expected: expected}
	if ck.CurrentHash, ck.CurrentHashDstack, err = appComposeHashes(current); err != nil {
		return nil, err
	}
	want, wantDstack, err := appComposeHashes(expected)
	if err != nil {
		return nil, err
	}
	var changed []composeField
	for _, f := range composeFields(change) {
		if f.set && fieldChanges(current, f) {
			changed = append(changed, f)
			ck.Changed = append(ck.Changed, f.name)
		}
	}
	sort.Strings(ck.Changed)
	if got == want || got == wantDstack {
		ck.Hash = got
		return ck, nil
	}
	return nil, &ComposeHashMismatchError{Got: got, Want: want, WantDstack: wantDstack, Changed: ck.Changed, Missing: missingFields(current, changed, got)}
}

// missingFields finds which of the changed fields a document hashing to
// got leaves out, trying every subset applied to current (at most 2^7).
func missingFields(current *AppCompose, changed []composeField, got string) []string {
	for mask := 0; mask < 1<<len(changed)-1; mask++ {
		doc, err := cloneAppCompose(current)
		if err != nil {
			return nil
		}
		var missing []string
		for i, f := range changed {
			if mask&(1<<i) != 0 {
				f.apply(doc)
				delete(doc.Extra, f.name)
			} else {
				missing = append(missing, f.name)
			}
		}
		if h, hd, err := appComposeHashes(doc); err == nil && (got == h || got == hd) {
			sort.Strings(missing)
			return missing
		}
	}
	return nil
}

// fieldChanges reports whether applying f alters current.
func fieldChanges(current *AppCompose, f composeField) bool {
	doc, err := cloneAppCompose(current)
	if err != nil {
		return true
	}
	f.apply(doc)
	delete(doc.Extra, f.name)
	a, _ := json.Marshal(current)
	b, _ := json.Marshal(doc)
	return string(a) != string(b)
}

// appComposeHashes returns the dump-form and dstack-form hashes of doc.
func appComposeHashes(doc *AppCompose) (dump, dstack string, err error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return "", "", err
	}
	if dump, err = DumpAppComposeHash(b); err != nil {
		return "", "", err
	}
	dstack, err = ComposeHash(b)
	return dump, dstack, err
}

func cloneAppCompose(a *AppCompose) (*AppCompose, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	out := &AppCompose{}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckComposeChange is what to do before signing a compose hash an
// answer asks for (a 465, a prepare-only PatchCVM): it checks that
// answerApp is the caller's app (appID, or the app id cvmID is; one of them
// must name it) and reads the CVM's current app-compose (GET
// /cvms/{id}/compose_file) to check composeHash with CheckComposeHash.
//
// Errors: an ErrInvalidArgument error before any request when neither
// appID nor cvmID names the app, or they disagree, or change is unusable
// (ExpectedAppCompose); an *AppMismatchError; GetCVMComposeFile's errors;
// a *ComposeHashMismatchError.
func (c *Client) CheckComposeChange(ctx context.Context, cvmID, appID string, change *PatchCVMRequest, answerApp, composeHash string) (*ComposeCheck, error) {
	want, err := callerAppID(cvmID, appID, "appID")
	if err != nil {
		return nil, err
	}
	if want == "" {
		return nil, invalidArg("appID", "is empty and cvmID %q is not an app id: name the app whose compose hash you approve", cvmID)
	}
	if _, err := ExpectedAppCompose(&AppCompose{}, change); err != nil {
		return nil, err
	}
	got := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(answerApp, "app_"), "0x"))
	if got != want {
		return nil, &AppMismatchError{Want: want, Got: got, Answer: "the answer"}
	}
	cur, err := c.GetCVMComposeFile(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	return CheckComposeHash(cur, change, composeHash)
}

// VerifyPreparedUpdate checks a prepare-only PatchCVM answer before the
// signers of a multisig are asked to approve its hash: prepared.AppID must
// be appID (or the app id cvmID is) and prepared.ComposeHash the hash of
// the CVM's current app-compose with exactly req's app-compose fields
// applied (CheckComposeChange). Call it with the req given to PatchCVM;
// CommitCVMUpdate then commits what was checked. The current app-compose
// is read from the API: the onchain module's VerifyPrepared also checks
// that its hash is allowed on the app contract. Errors are
// CheckComposeChange's, and an ErrInvalidArgument error for a nil prepared.
func (c *Client) VerifyPreparedUpdate(ctx context.Context, cvmID, appID string, req *PatchCVMRequest, prepared *PatchCVMResponse) (out *ComposeCheck, err error) {
	if prepared == nil {
		return nil, invalidArg("prepared", "is nil")
	}
	// The commit token rides along in prepared: scrubbed from this call's
	// texts like any secret handed to a call.
	if ctx, err = c.begin(ctx, prepared.CommitToken); err != nil {
		return nil, err
	}
	return c.CheckComposeChange(ctx, cvmID, appID, req, prepared.AppID, prepared.ComposeHash)
}

// sentComposeHash hashes the app-compose a provision request sent (its
// body without update_env_vars, a request option) and reports whether got
// is its hash in the dump or the dstack form.
func sentComposeHash(body gen.ProvisionComposeUpdateRequest, got string) (string, bool) {
	body.UpdateEnvVars = nil
	b, err := json.Marshal(body)
	if err != nil {
		return "", false
	}
	var doc AppCompose
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", false
	}
	dump, dstack, err := appComposeHashes(&doc)
	if err != nil {
		return "", false
	}
	got = strings.ToLower(strings.TrimPrefix(got, "0x"))
	return dump, got == dump || got == dstack
}
