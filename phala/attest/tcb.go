package attest

import (
	"bytes"
	"fmt"
	"slices"
)

// TCBStatus is Intel's TCB status of a platform (PCS "tcbStatus" values).
type TCBStatus string

// The statuses Intel's TCB info and QE identity use.
const (
	StatusUpToDate                          TCBStatus = "UpToDate"
	StatusSWHardeningNeeded                 TCBStatus = "SWHardeningNeeded"
	StatusConfigurationNeeded               TCBStatus = "ConfigurationNeeded"
	StatusConfigurationAndSWHardeningNeeded TCBStatus = "ConfigurationAndSWHardeningNeeded"
	StatusOutOfDate                         TCBStatus = "OutOfDate"
	StatusOutOfDateConfigurationNeeded      TCBStatus = "OutOfDateConfigurationNeeded"
	StatusRevoked                           TCBStatus = "Revoked"
)

// severity orders statuses from best to worst; unknown strings are worst.
func (s TCBStatus) severity() int {
	i := slices.Index([]TCBStatus{StatusUpToDate, StatusSWHardeningNeeded, StatusConfigurationNeeded,
		StatusConfigurationAndSWHardeningNeeded, StatusOutOfDate, StatusOutOfDateConfigurationNeeded, StatusRevoked}, s)
	if i < 0 {
		return 100
	}
	return i
}

// merge combines two statuses: the worse one, except that OutOfDate met
// with a configuration status gives OutOfDateConfigurationNeeded (Intel's
// QVL convergence of platform, TDX module and QE statuses).
func (s TCBStatus) merge(o TCBStatus) TCBStatus {
	w, b := s, o
	if b.severity() > w.severity() {
		w, b = b, w
	}
	if w == StatusOutOfDate && (b == StatusConfigurationNeeded || b == StatusConfigurationAndSWHardeningNeeded) {
		return StatusOutOfDateConfigurationNeeded
	}
	return w
}

// Policy is the caller's acceptance rule for a verified quote.
type Policy struct {
	// Accept lists the TCB statuses the caller accepts. Empty means
	// UpToDate only. Revoked is never accepted.
	Accept []TCBStatus
	// RejectAdvisories lists Intel advisory ids (e.g. "INTEL-SA-00837")
	// that make a quote unacceptable whatever its status.
	RejectAdvisories []string
}

// StrictPolicy accepts UpToDate only.
var StrictPolicy = Policy{Accept: []TCBStatus{StatusUpToDate}}

func (p Policy) check(status TCBStatus, advisories []string) error {
	accept := p.Accept
	if len(accept) == 0 {
		accept = StrictPolicy.Accept
	}
	if status == StatusRevoked || !slices.Contains(accept, status) {
		return fail(CheckTCBStatus, "TCB status %s (advisories %v) is not accepted by the policy %v", status, advisories, accept)
	}
	for _, a := range advisories {
		if slices.Contains(p.RejectAdvisories, a) {
			return fail(CheckTCBStatus, "advisory %s is rejected by the policy", a)
		}
	}
	return nil
}

// matchPlatform finds the first (highest) TCB level the platform meets:
// every SGX component SVN and the PCESVN from the PCK certificate, and the
// TDX components from TEE_TCB_SVN. When the TDX module major version
// (TEE_TCB_SVN[1]) is non-zero the first two TDX components are the module
// SVN and version and are left to the module identity check (Intel QVL
// TcbLevelCheck / TdxModuleCheck).
func matchPlatform(ti *tcbInfo, pck *pckInfo, teeTCBSVN [16]byte) (*tcbLevel, error) {
	start := 0
	if teeTCBSVN[1] > 0 {
		start = 2
	}
	for i := range ti.TCBLevels {
		l := &ti.TCBLevels[i]
		if len(l.TCB.SGX) != 16 || len(l.TCB.TDX) != 16 {
			return nil, fail(CheckCollateral, "TCB level %d has %d SGX and %d TDX components, want 16 each", i, len(l.TCB.SGX), len(l.TCB.TDX))
		}
		if int(pck.PCESVN) < l.TCB.PCESVN || !svnsMeet(pck.CPUSVN[:], l.TCB.SGX, 0) || !svnsMeet(teeTCBSVN[:], l.TCB.TDX, start) {
			continue
		}
		return l, nil
	}
	return nil, fail(CheckTCBLevel, "no TCB level of FMSPC %s matches the platform (CPUSVN %x, PCESVN %d, TEE_TCB_SVN %x): TCB level not supported", ti.FMSPC, pck.CPUSVN, pck.PCESVN, teeTCBSVN)
}

func svnsMeet(have []byte, need []svnComponent, start int) bool {
	for i := start; i < len(need); i++ {
		if int(have[i]) < need[i].SVN {
			return false
		}
	}
	return true
}

// matchTDXModule checks the TDX module identity: MRSIGNERSEAM and the
// masked SEAM attributes against the module of that major version, and
// returns the status of the module's TCB level for its SVN.
func matchTDXModule(ti *tcbInfo, r *TDReport) (TCBStatus, []string, error) {
	if ti.TDXModule == nil {
		return "", nil, fail(CheckCollateral, "TCB info has no tdxModule")
	}
	mod, status, adv := ti.TDXModule, StatusUpToDate, []string(nil)
	if version := r.TEETCBSVN[1]; version > 0 {
		id := fmt.Sprintf("TDX_%02X", version)
		var found *tdxModule
		for i := range ti.TDXModuleIdentities {
			if bytes.EqualFold([]byte(ti.TDXModuleIdentities[i].ID), []byte(id)) {
				found = &ti.TDXModuleIdentities[i]
				break
			}
		}
		if found == nil {
			return "", nil, fail(CheckTDXModule, "TCB info has no identity %s for the TDX module", id)
		}
		lvl := qeLevelFor(found.TCBLevels, int(r.TEETCBSVN[0]))
		if lvl == nil {
			return "", nil, fail(CheckTDXModule, "TDX module %s SVN %d is below every TCB level", id, r.TEETCBSVN[0])
		}
		mod, status, adv = found, lvl.TCBStatus, lvl.AdvisoryIDs
	}
	if !bytes.Equal(mod.MRSigner, r.MRSignerSEAM[:]) {
		return "", nil, fail(CheckTDXModule, "MRSIGNERSEAM %x is not the module signer %x", r.MRSignerSEAM, []byte(mod.MRSigner))
	}
	if len(mod.Attributes) != 8 || len(mod.AttributesMask) != 8 {
		return "", nil, fail(CheckCollateral, "TDX module attributes are not 8 bytes")
	}
	for i := range 8 {
		if r.SEAMAttributes[i]&mod.AttributesMask[i] != mod.Attributes[i]&mod.AttributesMask[i] {
			return "", nil, fail(CheckTDXModule, "SEAM attributes %x do not match the module's", r.SEAMAttributes)
		}
	}
	return status, adv, nil
}

// qeLevelFor returns the first level whose ISVSVN the given SVN meets.
func qeLevelFor(levels []qeTCBLevel, svn int) *qeTCBLevel {
	for i := range levels {
		if svn >= levels[i].TCB.ISVSVN {
			return &levels[i]
		}
	}
	return nil
}

// enclaveReport holds the QE report fields the QE identity constrains.
type enclaveReport struct {
	miscSelect [4]byte
	attributes [16]byte
	mrSigner   [32]byte
	isvProdID  uint16
	isvSVN     uint16
	reportData [64]byte
}

func parseEnclaveReport(b [enclaveReportLen]byte) enclaveReport {
	var e enclaveReport
	copy(e.miscSelect[:], b[16:20])
	copy(e.attributes[:], b[48:64])
	copy(e.mrSigner[:], b[128:160])
	e.isvProdID = uint16(b[256]) | uint16(b[257])<<8
	e.isvSVN = uint16(b[258]) | uint16(b[259])<<8
	copy(e.reportData[:], b[320:384])
	return e
}

// matchQEIdentity checks the QE report against the QE identity and
// returns the QE's TCB status.
func matchQEIdentity(e enclaveReport, qe *qeIdentity) (TCBStatus, []string, error) {
	if !bytes.Equal(qe.MRSigner, e.mrSigner[:]) {
		return "", nil, fail(CheckQEReport, "QE MRSIGNER %x is not Intel's %x", e.mrSigner, []byte(qe.MRSigner))
	}
	if int(e.isvProdID) != qe.ISVProdID {
		return "", nil, fail(CheckQEReport, "QE ISVPRODID %d, want %d", e.isvProdID, qe.ISVProdID)
	}
	if e.attributes[0]&0x02 != 0 {
		return "", nil, fail(CheckDebug, "the quoting enclave runs in debug mode")
	}
	if !maskedEqual(e.miscSelect[:], qe.MiscSelect, qe.MiscSelectMask) || !maskedEqual(e.attributes[:], qe.Attributes, qe.AttributesMask) {
		return "", nil, fail(CheckQEReport, "QE MISCSELECT or ATTRIBUTES do not match the QE identity")
	}
	lvl := qeLevelFor(qe.TCBLevels, int(e.isvSVN))
	if lvl == nil {
		return "", nil, fail(CheckQEReport, "QE ISVSVN %d is below every QE identity TCB level", e.isvSVN)
	}
	return lvl.TCBStatus, lvl.AdvisoryIDs, nil
}

func maskedEqual(have, want, mask []byte) bool {
	if len(want) != len(have) || len(mask) != len(have) {
		return false
	}
	for i := range have {
		if have[i]&mask[i] != want[i]&mask[i] {
			return false
		}
	}
	return true
}

// checkTDAttributes applies the TD attribute rules of dcap-qvl and Intel's
// appraisal policy: no debug (TUD bit), no reserved bits,
// SEPT_VE_DISABLE set, and no service TD bound (TDX 1.5).
func checkTDAttributes(r *TDReport) error {
	a := r.TDAttributes
	if a[0] != 0 {
		return fail(CheckDebug, "TD attributes %x: the TD is debuggable (TUD bits set)", a)
	}
	if a[1] != 0 || a[2] != 0 || a[3]&0x0f != 0 || a[3]&0x20 != 0 || a[4] != 0 || a[5] != 0 || a[6] != 0 || a[7]&0x7f != 0 {
		return fail(CheckTDAttributes, "TD attributes %x set reserved bits", a)
	}
	if a[3]&0x10 == 0 {
		return fail(CheckTDAttributes, "TD attributes %x: SEPT_VE_DISABLE is not set", a)
	}
	if !allZero(r.MRServiceTD[:]) {
		return fail(CheckTDAttributes, "MRSERVICETD is set: a service TD is bound")
	}
	return nil
}

func unionAdvisories(lists ...[]string) []string {
	out := []string{}
	for _, l := range lists {
		for _, a := range l {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}
