package attest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSyntheticQuoteVerifies(t *testing.T) {
	p := newTestPKI(t)
	for _, v := range []struct{ version, body uint16 }{{4, 2}, {5, 2}, {5, 3}} {
		res, err := p.verifier().verify(p.quote(t, defaultReport(), v.version, v.body), p.collateral(t, testTCB{}), p.t0, StrictPolicy)
		require.NoError(t, err, "v%d body %d", v.version, v.body)
		assert.Equal(t, StatusUpToDate, res.Status)
	}
	_, err := VerifyQuote(p.quote(t, defaultReport(), 4, 2), p.collateral(t, testTCB{}), p.t0, StrictPolicy)
	assert.ErrorIs(t, err, ErrCRL, "the production verifier trusts Intel's root only: the test root's CRL fails")
}

func TestTCBStatusPolicyAndAdvisories(t *testing.T) {
	p := newTestPKI(t)
	sgx, tdx := []int{3, 3, 2, 2, 4, 1, 0, 5}, []int{0, 0, 3}
	cases := []struct {
		name    string
		tcb     testTCB
		status  TCBStatus
		adv     []string
		policy  Policy
		wantErr *Error
	}{
		{"sw hardening rejected by strict", testTCB{Levels: []map[string]any{mkLevel("SWHardeningNeeded", sgx, tdx, 13, "INTEL-SA-00615")}},
			StatusSWHardeningNeeded, []string{"INTEL-SA-00615"}, StrictPolicy, ErrTCBStatus},
		{"sw hardening accepted", testTCB{Levels: []map[string]any{mkLevel("SWHardeningNeeded", sgx, tdx, 13, "INTEL-SA-00615")}},
			StatusSWHardeningNeeded, []string{"INTEL-SA-00615"}, Policy{Accept: []TCBStatus{StatusUpToDate, StatusSWHardeningNeeded}}, nil},
		{"advisory rejected", testTCB{Levels: []map[string]any{mkLevel("SWHardeningNeeded", sgx, tdx, 13, "INTEL-SA-00615")}},
			StatusSWHardeningNeeded, []string{"INTEL-SA-00615"}, Policy{Accept: []TCBStatus{StatusSWHardeningNeeded}, RejectAdvisories: []string{"INTEL-SA-00615"}}, ErrTCBStatus},
		{"higher level skipped, lower matched", testTCB{Levels: []map[string]any{
			mkLevel("UpToDate", []int{9, 3, 2, 2, 4, 1, 0, 5}, tdx, 13), mkLevel("OutOfDate", sgx, tdx, 13, "INTEL-SA-00837")}},
			StatusOutOfDate, []string{"INTEL-SA-00837"}, Policy{Accept: []TCBStatus{StatusOutOfDate}}, nil},
		{"pcesvn too low for every level", testTCB{Levels: []map[string]any{mkLevel("UpToDate", sgx, tdx, 14)}}, "", nil, StrictPolicy, ErrTCBLevel},
		{"tdx component too low", testTCB{Levels: []map[string]any{mkLevel("UpToDate", sgx, []int{0, 0, 4}, 13)}}, "", nil, StrictPolicy, ErrTCBLevel},
		{"module svn/version components left to the module check", testTCB{Levels: []map[string]any{mkLevel("UpToDate", sgx, []int{9, 9, 3}, 13)}},
			StatusUpToDate, []string{}, StrictPolicy, nil},
		{"module out of date converges", testTCB{Modules: []map[string]any{moduleIdentity("TDX_01", isvLevel(5, "UpToDate"), isvLevel(1, "OutOfDate", "INTEL-SA-01036"))}},
			StatusOutOfDate, []string{"INTEL-SA-01036"}, Policy{Accept: []TCBStatus{StatusOutOfDate}}, nil},
		{"module identity missing", testTCB{Modules: []map[string]any{moduleIdentity("TDX_03", isvLevel(0, "UpToDate"))}}, "", nil, StrictPolicy, ErrTDXModule},
		{"module svn below every level", testTCB{Modules: []map[string]any{moduleIdentity("TDX_01", isvLevel(4, "UpToDate"))}}, "", nil, StrictPolicy, ErrTDXModule},
		{"QE out of date", testTCB{QELevels: []map[string]any{isvLevel(5, "UpToDate"), isvLevel(2, "OutOfDate", "INTEL-SA-00999")}},
			StatusOutOfDate, []string{"INTEL-SA-00999"}, StrictPolicy, ErrTCBStatus},
		{"QE below every level", testTCB{QELevels: []map[string]any{isvLevel(5, "UpToDate")}}, "", nil, StrictPolicy, ErrQEReport},
		{"revoked never accepted", testTCB{Levels: []map[string]any{mkLevel("Revoked", sgx, tdx, 13)}},
			StatusRevoked, []string{}, Policy{Accept: []TCBStatus{StatusRevoked}}, ErrTCBStatus},
		{"configuration needed meets out of date", testTCB{Levels: []map[string]any{mkLevel("ConfigurationNeeded", sgx, tdx, 13)},
			Modules: []map[string]any{moduleIdentity("TDX_01", isvLevel(1, "OutOfDate"))}},
			StatusOutOfDateConfigurationNeeded, []string{}, Policy{Accept: []TCBStatus{StatusOutOfDateConfigurationNeeded}}, nil},
	}
	q := p.quote(t, defaultReport(), 4, 2)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := p.verifier().verify(q, p.collateral(t, c.tcb), p.t0, c.policy)
			if c.wantErr != nil {
				assert.ErrorIs(t, err, c.wantErr, "%v", err)
			} else {
				require.NoError(t, err)
			}
			if c.status != "" {
				require.NotNil(t, res)
				assert.Equal(t, c.status, res.Status)
				assert.Equal(t, c.adv, res.AdvisoryIDs)
			}
		})
	}
}

func TestDebugAndAttributeRules(t *testing.T) {
	p := newTestPKI(t)
	col := p.collateral(t, testTCB{})
	for name, c := range map[string]struct {
		mutate func(*TDReport)
		want   *Error
	}{
		"debug TD":               {func(r *TDReport) { r.TDAttributes[0] = 1 }, ErrDebug},
		"reserved bit":           {func(r *TDReport) { r.TDAttributes[5] = 1 }, ErrTDAttributes},
		"SEPT_VE_DISABLE off":    {func(r *TDReport) { r.TDAttributes[3] = 0 }, ErrTDAttributes},
		"MRSIGNERSEAM not Intel": {func(r *TDReport) { r.MRSignerSEAM[0] = 1 }, ErrTDXModule},
		"SEAM attributes":        {func(r *TDReport) { r.SEAMAttributes[0] = 1 }, ErrTDXModule},
	} {
		r := defaultReport()
		c.mutate(&r)
		_, err := p.verifier().verify(p.quote(t, r, 4, 2), col, p.t0, StrictPolicy)
		assert.ErrorIs(t, err, c.want, "%s: %v", name, err)
	}
	r := defaultReport()
	r.MRServiceTD[0] = 1
	_, err := p.verifier().verify(p.quote(t, r, 5, 3), col, p.t0, StrictPolicy)
	assert.ErrorIs(t, err, ErrTDAttributes, "a bound service TD")
}

func TestRevokedPCKAndWrongPlatform(t *testing.T) {
	p := newTestPKI(t)
	p.pckCRL = p.crl(t, p.platCA, p.platKey, []int64{4}) // the PCK leaf's serial
	_, err := p.verifier().verify(p.quote(t, defaultReport(), 4, 2), p.collateral(t, testTCB{}), p.t0, StrictPolicy)
	assert.ErrorIs(t, err, ErrCRL)

	for serial, what := range map[int64]string{2: "PCK platform CA", 3: "TCB signing certificate"} {
		p = newTestPKI(t)
		p.rootCRL = p.crl(t, p.root, p.rootKey, []int64{serial})
		_, err = p.verifier().verify(p.quote(t, defaultReport(), 4, 2), p.collateral(t, testTCB{}), p.t0, StrictPolicy)
		assert.ErrorIs(t, err, ErrCRL, "revoked %s", what)
	}

	p = newTestPKI(t)
	col := p.collateral(t, testTCB{})
	p.fmspc[0] ^= 1 // collateral for another FMSPC
	other := p.collateral(t, testTCB{})
	_, err = p.verifier().verify(p.quote(t, defaultReport(), 4, 2), other, p.t0, StrictPolicy)
	assert.ErrorIs(t, err, ErrCollateral)
	_, err = p.verifier().verify(p.quote(t, defaultReport(), 4, 2), col, p.t0.AddDate(0, 0, 40), StrictPolicy)
	assert.ErrorIs(t, err, ErrExpired)
	_, err = p.verifier().verify(p.quote(t, defaultReport(), 4, 2), col, p.t0.AddDate(0, 0, -2), StrictPolicy)
	assert.ErrorIs(t, err, ErrNotYetValid)
}
