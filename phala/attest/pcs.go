package attest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// IntelPCSURL is Intel's Provisioning Certification Service.
const IntelPCSURL = "https://api.trustedservices.intel.com"

// IntelRootCACRLURL is the CRL distribution point of Intel's SGX Root CA.
const IntelRootCACRLURL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"

// maxCollateralBody bounds each collateral response.
const maxCollateralBody = 4 << 20

// CollateralSource supplies Intel collateral for a platform. fmspc is 12
// hex digits; ca is "platform" or "processor" (the CA that issued the PCK
// certificate).
type CollateralSource interface {
	Collateral(ctx context.Context, fmspc, ca string) (*Collateral, error)
}

// PCS fetches collateral from Intel's PCS or a PCCS (Provisioning
// Certificate Caching Service) speaking the same v4 API, and caches it per
// FMSPC and CA until the earliest nextUpdate of what it fetched. The
// fetched collateral is verified like offline collateral: the source is
// never trusted. A PCS is safe for concurrent use; do not copy it.
type PCS struct {
	// BaseURL is IntelPCSURL, or a PCCS such as https://pccs.example:8081.
	BaseURL string
	// RootCACRLURL is where the root CA CRL is read from. Empty: a PCCS's
	// /sgx/certification/v4/rootcacrl, or IntelRootCACRLURL for Intel's PCS.
	RootCACRLURL string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the cache clock; nil means time.Now. It never sets the
	// verification time, which the caller passes to Verify.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedCollateral
}

type cachedCollateral struct {
	col    *Collateral
	expiry time.Time
}

var fmspcPattern = regexp.MustCompile(`^[0-9a-fA-F]{12}$`)

// Collateral returns the cached collateral for fmspc and ca while it is
// current, and fetches it otherwise. Errors match ErrInput (bad fmspc or
// ca) or ErrCollateral (a request failed or an answer is malformed).
func (p *PCS) Collateral(ctx context.Context, fmspc, ca string) (*Collateral, error) {
	if !fmspcPattern.MatchString(fmspc) || (ca != "platform" && ca != "processor") {
		return nil, fail(CheckInput, "fmspc %q / ca %q: want 12 hex digits and platform or processor", fmspc, ca)
	}
	key := strings.ToUpper(fmspc) + "/" + ca
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	p.mu.Lock()
	c, ok := p.cache[key]
	p.mu.Unlock()
	if ok && now().Before(c.expiry) {
		return c.col, nil
	}
	col, expiry, err := p.fetch(ctx, strings.ToUpper(fmspc), ca)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.cache == nil {
		p.cache = map[string]cachedCollateral{}
	}
	p.cache[key] = cachedCollateral{col: col, expiry: expiry}
	p.mu.Unlock()
	return col, nil
}

func (p *PCS) base() string {
	b := strings.TrimRight(p.BaseURL, "/")
	if b == "" {
		b = IntelPCSURL
	}
	return b
}

func (p *PCS) fetch(ctx context.Context, fmspc, ca string) (*Collateral, time.Time, error) {
	col := &Collateral{}
	base := p.base()
	crl, hdr, err := p.get(ctx, base+"/sgx/certification/v4/pckcrl?ca="+ca+"&encoding=der", "SGX-PCK-CRL-Issuer-Chain")
	if err != nil {
		return nil, time.Time{}, err
	}
	col.PCKCRLIssuerChain, col.PCKCRL = hdr, crlBytes(crl)
	tcb, hdr, err := p.get(ctx, base+"/tdx/certification/v4/tcb?fmspc="+url.QueryEscape(fmspc), "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain")
	if err != nil {
		return nil, time.Time{}, err
	}
	col.TCBInfoIssuerChain = hdr
	if col.TCBInfo, col.TCBInfoSignature, err = signedBody(tcb, "tcbInfo"); err != nil {
		return nil, time.Time{}, err
	}
	qe, hdr, err := p.get(ctx, base+"/tdx/certification/v4/qe/identity", "SGX-Enclave-Identity-Issuer-Chain")
	if err != nil {
		return nil, time.Time{}, err
	}
	col.QEIdentityIssuerChain = hdr
	if col.QEIdentity, col.QEIdentitySignature, err = signedBody(qe, "enclaveIdentity"); err != nil {
		return nil, time.Time{}, err
	}
	rootURL := p.RootCACRLURL
	if rootURL == "" {
		rootURL = base + "/sgx/certification/v4/rootcacrl"
		if base == IntelPCSURL {
			rootURL = IntelRootCACRLURL
		}
	}
	root, _, err := p.get(ctx, rootURL)
	if err != nil {
		return nil, time.Time{}, err
	}
	col.RootCACRL = crlBytes(root)
	return col, collateralExpiry(col), nil
}

// get fetches u and returns its body and the first of the named headers
// (URL-decoded; PCS percent-encodes the PEM chains).
func (p *PCS) get(ctx context.Context, u string, headers ...string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", failErr(CheckCollateral, err, "collateral request")
	}
	hc := p.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", failErr(CheckCollateral, err, "GET %s", req.URL.Path)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCollateralBody+1))
	if err != nil || len(body) > maxCollateralBody {
		return nil, "", failErr(CheckCollateral, err, "GET %s: body unreadable or over %d bytes", req.URL.Path, maxCollateralBody)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fail(CheckCollateral, "GET %s: HTTP %d", req.URL.Path, resp.StatusCode)
	}
	if len(headers) == 0 {
		return body, "", nil
	}
	for _, h := range headers {
		if v := resp.Header.Get(h); v != "" {
			dec, err := url.QueryUnescape(v)
			if err != nil {
				return nil, "", failErr(CheckCollateral, err, "GET %s: header %s", req.URL.Path, h)
			}
			return body, dec, nil
		}
	}
	return nil, "", fail(CheckCollateral, "GET %s: no %s header", req.URL.Path, strings.Join(headers, " or "))
}

// signedBody extracts the exact bytes of the signed member and its hex
// signature from a PCS answer such as {"tcbInfo":{…},"signature":"…"}.
func signedBody(body []byte, member string) (string, hexBytes, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return "", nil, failErr(CheckCollateral, err, "%s answer", member)
	}
	var sig hexBytes
	if err := json.Unmarshal(m["signature"], &sig); err != nil || len(m[member]) == 0 {
		return "", nil, fail(CheckCollateral, "%s answer lacks %s or a hex signature", member, member)
	}
	return string(m[member]), sig, nil
}

// crlBytes accepts DER, PEM or hex (PCCS serves the root CA CRL as hex).
func crlBytes(b []byte) []byte {
	if blk, _ := pem.Decode(b); blk != nil {
		return blk.Bytes
	}
	if d, err := hex.DecodeString(string(bytes.TrimSpace(b))); err == nil {
		return d
	}
	return b
}

// collateralExpiry is the earliest nextUpdate in col; an unparsable part
// gives the zero time, so it is fetched again next time.
func collateralExpiry(col *Collateral) time.Time {
	var ti, qe struct {
		NextUpdate time.Time `json:"nextUpdate"`
	}
	if json.Unmarshal([]byte(col.TCBInfo), &ti) != nil || json.Unmarshal([]byte(col.QEIdentity), &qe) != nil {
		return time.Time{}
	}
	exp := minTime(ti.NextUpdate, qe.NextUpdate)
	for _, der := range [][]byte{col.PCKCRL, col.RootCACRL} {
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			return time.Time{}
		}
		exp = minTime(exp, crl.NextUpdate)
	}
	return exp
}

// collateralFor asks src for the collateral of the quote's platform.
func collateralFor(ctx context.Context, src CollateralSource, q *Quote, at time.Time) (*Collateral, error) {
	chain, err := parseChainPEM(CheckPCKChain, "PCK certificate chain", q.PCKChainPEM)
	if err != nil {
		return nil, err
	}
	pck, err := parsePCK(chain[0])
	if err != nil {
		return nil, err
	}
	ca := "platform"
	if strings.Contains(pck.Issuer, "Processor") {
		ca = "processor"
	}
	col, err := src.Collateral(ctx, hex.EncodeToString(pck.FMSPC[:]), ca)
	if err != nil {
		return nil, err
	}
	if col == nil {
		return nil, fail(CheckCollateral, "the collateral source returned nothing for FMSPC %x at %s", pck.FMSPC, at.Format(time.RFC3339))
	}
	return col, nil
}
