package main

import (
	"crypto/ecdh"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phalacloud/go-sdk/phala"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{5}, 5}, {nil, 0}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestCheckCiphertext(t *testing.T) {
	s := seed("test")
	priv, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		t.Fatal(err)
	}
	vars := envs(3)
	ct, err := phala.EncryptEnvVars(vars, hex.EncodeToString(priv.PublicKey().Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCiphertext(priv, ct, vars); err != nil {
		t.Fatal(err)
	}
	if err := checkCiphertext(priv, ct, envs(2)); err == nil {
		t.Fatal("other variables accepted")
	}
	// Flip a bit of the tag's last byte: replacing it with a fixed value
	// left it intact whenever the random ciphertext already ended in it.
	last, err := hex.DecodeString(ct[len(ct)-2:])
	if err != nil {
		t.Fatal(err)
	}
	damaged := ct[:len(ct)-2] + hex.EncodeToString([]byte{last[0] ^ 1})
	if err := checkCiphertext(priv, damaged, vars); err == nil {
		t.Fatal("a damaged tag accepted")
	}
}

func TestComposesMatchTheirSizes(t *testing.T) {
	typical, large := composes()
	for _, doc := range []string{typical, large} {
		if _, err := phala.ComposeHash([]byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	if len(large) < 200<<10 {
		t.Fatalf("large compose is %d bytes", len(large))
	}
}

func TestProxyCountsConnections(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	p, err := newProxy(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	for range 5 {
		resp, err := hc.Get("http://" + p.addr() + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			t.Fatalf("answer %q", b)
		}
	}
	if n := p.accepted.Load(); n != 1 {
		t.Fatalf("%d connections for 5 sequential keep-alive requests, want 1", n)
	}
}
