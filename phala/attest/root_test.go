package attest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The pinned root is the one every recorded chain ends in.
func TestPinnedRootIsTheSamplesRoot(t *testing.T) {
	sum := sha256.Sum256(intelRoot.Raw)
	assert.Equal(t, IntelRootFingerprint, hex.EncodeToString(sum[:]))
	assert.Equal(t, "Intel SGX Root CA", intelRoot.Subject.CommonName)
	n := 0
	for _, name := range []string{nearmpc.collateral, prod7.collateral, "tdx-v5-dcapqvl.collateral.json"} {
		c := loadCollateral(t, name)
		for _, chain := range []string{c.PCKCRLIssuerChain, c.TCBInfoIssuerChain, c.QEIdentityIssuerChain} {
			certs, err := parseChainPEM(CheckCollateral, name, []byte(chain))
			require.NoError(t, err)
			assert.True(t, bytes.Equal(certs[len(certs)-1].Raw, intelRoot.Raw), name)
			n++
		}
	}
	assert.Equal(t, 9, n)
}

func TestCollateralByteFieldsAcceptHexOrArrays(t *testing.T) {
	c, err := ParseCollateral([]byte(`{"pck_crl":"0a0B","root_ca_crl":[1,255],"tcb_info_signature":"0x01"}`))
	require.NoError(t, err)
	assert.Equal(t, hexBytes{10, 11}, c.PCKCRL)
	assert.Equal(t, hexBytes{1, 255}, c.RootCACRL)
	assert.Equal(t, hexBytes{1}, c.TCBInfoSignature)
	for _, bad := range []string{`{"pck_crl":[256]}`, `{"pck_crl":"zz"}`, `{"pck_crl":{}}`} {
		_, err := ParseCollateral([]byte(bad))
		assert.ErrorIs(t, err, ErrCollateral, bad)
	}
}
