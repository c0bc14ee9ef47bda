package attest

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pcsServer serves a sample's collateral the way Intel's PCS v4 API (and
// a PCCS) does: issuer chains percent-encoded in headers, TCB info and QE
// identity wrapped with their signature, CRLs as DER (root CA CRL as hex,
// as a PCCS serves it).
func pcsServer(t *testing.T, col *Collateral, tcbHeader string) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sgx/certification/v4/pckcrl", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Query().Get("ca") != "platform" || r.URL.Query().Get("encoding") != "der" {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		w.Header().Set("SGX-PCK-CRL-Issuer-Chain", url.QueryEscape(col.PCKCRLIssuerChain))
		_, _ = w.Write(col.PCKCRL)
	})
	mux.HandleFunc("GET /tdx/certification/v4/tcb", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Query().Get("fmspc") != "B0C06F000000" {
			http.Error(w, "unknown fmspc", http.StatusNotFound)
			return
		}
		w.Header().Set(tcbHeader, url.QueryEscape(col.TCBInfoIssuerChain))
		_, _ = w.Write([]byte(`{"tcbInfo":` + col.TCBInfo + `,"signature":"` + hex.EncodeToString(col.TCBInfoSignature) + `"}`))
	})
	mux.HandleFunc("GET /tdx/certification/v4/qe/identity", func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("SGX-Enclave-Identity-Issuer-Chain", url.QueryEscape(col.QEIdentityIssuerChain))
		_, _ = w.Write([]byte(`{"enclaveIdentity":` + col.QEIdentity + `,"signature":"` + hex.EncodeToString(col.QEIdentitySignature) + `"}`))
	})
	mux.HandleFunc("GET /sgx/certification/v4/rootcacrl", func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(hex.EncodeToString(col.RootCACRL)))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestPCSCollateralVerifiesAndIsCachedUntilExpiry(t *testing.T) {
	for _, header := range []string{"TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"} {
		srv, hits := pcsServer(t, loadCollateral(t, nearmpc.collateral), header)
		now := nearmpc.at
		pcs := &PCS{BaseURL: srv.URL + "/", HTTPClient: srv.Client(), Now: func() time.Time { return now }}
		exp := nearmpc.expected(t)
		exp.Collateral, exp.Source = nil, pcs
		ev := nearmpc.evidence(t)
		r, err := Verify(context.Background(), ev, exp)
		require.NoError(t, err, header)
		assert.Equal(t, StatusUpToDate, r.Quote.Status)
		assert.Equal(t, int32(4), hits.Load())
		_, err = Verify(context.Background(), ev, exp)
		require.NoError(t, err)
		assert.Equal(t, int32(4), hits.Load(), "served from the cache")
		now = time.Date(2026, 9, 12, 0, 0, 0, 0, time.UTC) // past the PCK CRL's nextUpdate
		_, err = pcs.Collateral(context.Background(), "b0c06f000000", "platform")
		require.NoError(t, err)
		assert.Equal(t, int32(8), hits.Load(), "expired: fetched again")
	}
}

func TestPCSConcurrentCallers(t *testing.T) {
	srv, _ := pcsServer(t, loadCollateral(t, nearmpc.collateral), "TCB-Info-Issuer-Chain")
	pcs := &PCS{BaseURL: srv.URL, HTTPClient: srv.Client(), Now: func() time.Time { return nearmpc.at }}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := pcs.Collateral(context.Background(), "B0C06F000000", "platform")
			errs <- err
		}()
	}
	for range 8 {
		assert.NoError(t, <-errs)
	}
}

func TestPCSErrors(t *testing.T) {
	srv, _ := pcsServer(t, loadCollateral(t, nearmpc.collateral), "TCB-Info-Issuer-Chain")
	pcs := &PCS{BaseURL: srv.URL, HTTPClient: srv.Client()}
	ctx := context.Background()
	_, err := pcs.Collateral(ctx, "b0c06f", "platform")
	assert.ErrorIs(t, err, ErrInput)
	_, err = pcs.Collateral(ctx, "b0c06f000000", "other")
	assert.ErrorIs(t, err, ErrInput)
	_, err = pcs.Collateral(ctx, "20a06f000000", "platform")
	assert.ErrorIs(t, err, ErrCollateral, "HTTP 404")
	_, err = pcs.Collateral(ctx, "b0c06f000000", "processor")
	assert.ErrorIs(t, err, ErrCollateral, "HTTP 400")

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) })
	bare := httptest.NewServer(mux)
	defer bare.Close()
	_, err = (&PCS{BaseURL: bare.URL, HTTPClient: bare.Client()}).Collateral(ctx, "b0c06f000000", "platform")
	assert.ErrorIs(t, err, ErrCollateral, "no issuer chain header")
}

func TestSignedBodyKeepsExactBytes(t *testing.T) {
	body := []byte(`{"tcbInfo":{"b":1, "a":[ 2 ]},"signature":"0a0b"}`)
	raw, sig, err := signedBody(body, "tcbInfo")
	require.NoError(t, err)
	assert.Equal(t, `{"b":1, "a":[ 2 ]}`, raw, "the signed bytes, never a re-serialisation")
	assert.Equal(t, hexBytes{0x0a, 0x0b}, sig)
}
