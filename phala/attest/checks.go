package attest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// The checks Verify runs after the quote, in order; each records its
// result in the report.

func (r *Report) checkReplay(_ context.Context, ev *Evidence, _ Expected) error {
	rep, err := ReplayEventLog(ev.EventLog)
	if err != nil {
		return err
	}
	r.Replay = rep
	for _, name := range reservedEvents {
		n := 0
		for _, e := range rep.Runtime {
			if e.Name == name {
				n++
			}
		}
		if n > 1 {
			return fail(CheckEventLog, "the %q event appears %d times", name, n)
		}
	}
	r.pass(CheckEventLog, "%d events, %d runtime digests recomputed from name and payload", len(ev.EventLog), len(rep.Runtime))
	if err := rep.checkRTMRs(&r.Quote.Quote.Report); err != nil {
		return err
	}
	r.pass(CheckRTMR, "RTMR0-3 replayed equal the quote's; RTMR3 %x", rep.RTMR[3])
	return nil
}

// checkClaims compares the API's tcb_info values with the quote's.
func (r *Report) checkClaims(_ context.Context, ev *Evidence, _ Expected) error {
	ti := ev.TCBInfo
	if ti == nil {
		return nil
	}
	q := &r.Quote.Quote.Report
	for _, c := range []struct {
		name, claim string
		have        []byte
	}{{"mrtd", ti.MRTD, q.MRTD[:]}, {"rtmr0", ti.RTMR0, q.RTMR[0][:]}, {"rtmr1", ti.RTMR1, q.RTMR[1][:]}, {"rtmr2", ti.RTMR2, q.RTMR[2][:]}, {"rtmr3", ti.RTMR3, q.RTMR[3][:]}} {
		if c.claim != "" && !strings.EqualFold(c.claim, hex.EncodeToString(c.have)) {
			return fail(CheckRTMR, "tcb_info.%s %s is not the quote's %x", c.name, c.claim, c.have)
		}
	}
	return nil
}

// composeApproved asks the caller's hash, bytes or predicate.
func (exp Expected) composeApproved(ctx context.Context, h [32]byte) error {
	if exp.ComposeHashAllowed != nil {
		ok, err := exp.ComposeHashAllowed(ctx, h)
		if err != nil {
			return failErr(CheckComposeHash, err, "the caller's ComposeHashAllowed failed for %x", h)
		}
		if !ok {
			return fail(CheckComposeHash, "the CVM runs compose hash %x, which the caller does not allow", h)
		}
		return nil
	}
	want := exp.ComposeHash
	if len(want) == 0 {
		sum := sha256.Sum256(exp.AppCompose)
		want = sum[:]
	}
	if !bytes.Equal(want, h[:]) {
		return fail(CheckComposeHash, "the CVM runs compose hash %x, the caller approved %x", h, want)
	}
	return nil
}

func (r *Report) checkCompose(ctx context.Context, ev *Evidence, exp Expected) error {
	p, ok := r.Replay.Lookup("compose-hash")
	if !ok || len(p) != 32 {
		return fail(CheckComposeHash, "no 32-byte compose-hash event in RTMR3")
	}
	r.ComposeHash = [32]byte(p)
	if err := exp.composeApproved(ctx, r.ComposeHash); err != nil {
		return err
	}
	if ev.AppCompose != nil {
		if sum := sha256.Sum256(ev.AppCompose); !bytes.Equal(sum[:], p) {
			return fail(CheckComposeHash, "the evidence's app-compose hashes to %x, not the attested %x", sum, p)
		}
		r.AppCompose = ev.AppCompose
	}
	if ti := ev.TCBInfo; ti != nil && ti.ComposeHash != "" && !strings.EqualFold(ti.ComposeHash, hex.EncodeToString(p)) {
		return fail(CheckComposeHash, "tcb_info.compose_hash %s is not the attested %x", ti.ComposeHash, p)
	}
	r.pass(CheckComposeHash, "compose-hash event %x is the approved one", p)
	return nil
}

func (r *Report) checkAppAndKMS(_ context.Context, _ *Evidence, exp Expected) error {
	app, ok := r.Replay.Lookup("app-id")
	if !ok {
		return fail(CheckAppID, "no app-id event in RTMR3")
	}
	r.AppID = app
	if !bytes.Equal(app, exp.AppID) {
		return fail(CheckAppID, "the CVM runs app %x, the caller's app is %x", app, exp.AppID)
	}
	r.pass(CheckAppID, "app-id event %x is the caller's app", app)
	r.InstanceID, _ = r.Replay.Lookup("instance-id")
	kpPayload, ok := r.Replay.Lookup("key-provider")
	if !ok {
		return fail(CheckKeyProvider, "no key-provider event in RTMR3")
	}
	kp, err := parseKeyProvider(kpPayload)
	if err != nil {
		return err
	}
	r.KeyProvider = kp
	if exp.KMS == nil {
		r.skip(CheckKeyProvider, fmt.Sprintf("no trusted KMS given; the CVM's key provider is %s %s", kp.Name, kp.ID))
		return nil
	}
	if kp.Name != exp.KMS.Name || kp.ID != strings.ToLower(strings.TrimPrefix(exp.KMS.ID, "0x")) {
		return fail(CheckKeyProvider, "the CVM's key provider is %s %s, the caller trusts %s %s", kp.Name, kp.ID, exp.KMS.Name, exp.KMS.ID)
	}
	r.pass(CheckKeyProvider, "key-provider event names the trusted %s %s", kp.Name, kp.ID)
	return nil
}

func (r *Report) checkMRConfig(_ context.Context, _ *Evidence, exp Expected) error {
	id := r.Quote.Quote.Report.MRConfigID
	r.MRConfigID = id
	if allZero(id[:]) && exp.AllowUnboundMRConfigID {
		r.skip(CheckMRConfigID, "mr_config_id is all zero (no binding) and the caller allows it")
		return nil
	}
	kind, ok := r.KeyProvider.kind()
	if !ok && id[0] != 1 {
		return fail(CheckMRConfigID, "key provider %q has no mr_config_id kind", r.KeyProvider.Name)
	}
	if id[0] != 3 && (len(exp.GPUPolicyHash) > 0 || exp.InitScriptHashes != nil) {
		return fail(CheckMRConfigID, "the caller expects a GPU policy or init scripts bound, but mr_config_id is V%d, which cannot bind them", id[0])
	}
	kpID, _ := hex.DecodeString(r.KeyProvider.ID)
	c := MRConfig{ComposeHash: r.ComposeHash, AppID: r.AppID, KeyProvider: kind, KeyProviderID: kpID,
		InstanceID: r.InstanceID, GPUPolicyHash: exp.GPUPolicyHash, InitScriptHashes: exp.InitScriptHashes}
	if err := VerifyMRConfigID(id, c); err != nil {
		return err
	}
	r.pass(CheckMRConfigID, "mr_config_id V%d binds the verified configuration", id[0])
	return nil
}

func (r *Report) checkReportData(_ context.Context, _ *Evidence, exp Expected) error {
	have := r.Quote.Quote.Report.ReportData
	if exp.ReportData == nil {
		r.skip(CheckReportData, fmt.Sprintf("no expected report data given; the quote's is %x", have))
		return nil
	}
	if have != *exp.ReportData {
		return fail(CheckReportData, "report data %x is not the expected %x", have, *exp.ReportData)
	}
	r.pass(CheckReportData, "report data is the expected %x", have)
	return nil
}

func (r *Report) checkOS(_ context.Context, ev *Evidence, exp Expected) error {
	r.OSImageHash, _ = r.Replay.Lookup("os-image-hash")
	if ti := ev.TCBInfo; ti != nil && ti.OSImageHash != "" && r.OSImageHash != nil && !strings.EqualFold(ti.OSImageHash, hex.EncodeToString(r.OSImageHash)) {
		return fail(CheckOSImage, "tcb_info.os_image_hash %s is not the attested %x", ti.OSImageHash, r.OSImageHash)
	}
	q := &r.Quote.Quote.Report
	summary := fmt.Sprintf("MRTD %x, RTMR0 %x, RTMR1 %x, RTMR2 %x, os-image-hash %x", q.MRTD, q.RTMR[0], q.RTMR[1], q.RTMR[2], r.OSImageHash)
	if exp.OS == nil {
		r.skip(CheckOSImage, "no pins given; "+summary)
		return nil
	}
	for _, c := range []struct {
		name      string
		pin, have []byte
	}{{"MRTD", exp.OS.MRTD, q.MRTD[:]}, {"RTMR0", exp.OS.RTMR0, q.RTMR[0][:]}, {"RTMR1", exp.OS.RTMR1, q.RTMR[1][:]}, {"RTMR2", exp.OS.RTMR2, q.RTMR[2][:]}, {"os-image-hash", exp.OS.OSImageHash, r.OSImageHash}} {
		if len(c.pin) != 0 && !bytes.Equal(c.pin, c.have) {
			return fail(CheckOSImage, "%s %x is not the pinned %x", c.name, c.have, c.pin)
		}
	}
	r.pass(CheckOSImage, "pinned measurements match; %s", summary)
	return nil
}
