package main

import (
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/phalacloud/go-sdk/internal/benchdata"
	"github.com/phalacloud/go-sdk/internal/envcipher"

	"github.com/phalacloud/go-sdk/phala"
)

// cryptoCase is one encryption or hashing input, timed in both SDKs.
type cryptoCase struct {
	Name    string         `json:"name"`
	Kind    string         `json:"kind"` // "encrypt" or "hash"
	Iters   int            `json:"iters"`
	Envs    []phala.EnvVar `json:"-"`
	JSEnvs  []jsEnv        `json:"envs,omitempty"`
	Compose string         `json:"compose,omitempty"`
	what    string
	unit    string
}

// jsEnv is an EnvVar as the JavaScript SDK takes it.
type jsEnv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// envs returns n variables shaped like those of BenchmarkEncryptEnvVars.
func envs(n int) []phala.EnvVar {
	out := make([]phala.EnvVar, n)
	for i := range out {
		k, v := benchdata.EnvVar(i)
		out[i] = phala.EnvVar{Key: k, Value: v}
	}
	return out
}

// composes returns the app-composes of phala.BenchmarkComposeHash.
func composes() (typical, large string) { return benchdata.Composes() }

func cryptoCases(scale float64) []cryptoCase {
	n := func(base int) int { return max(1, int(float64(base)*scale)) }
	typical, large := composes()
	return []cryptoCase{
		{Name: "encrypt-1", Kind: "encrypt", Iters: n(2000), Envs: envs(1), what: "encryptEnvVars, 1 var", unit: "ops/s"},
		{Name: "encrypt-100", Kind: "encrypt", Iters: n(1000), Envs: envs(100), what: "encryptEnvVars, 100 vars", unit: "ops/s"},
		{Name: "encrypt-1024", Kind: "encrypt", Iters: n(200), Envs: envs(1024), what: "encryptEnvVars, 1024 vars", unit: "ops/s"},
		{Name: "hash-typical", Kind: "hash", Iters: n(10000), Compose: typical, what: fmt.Sprintf("getComposeHash, typical (%d B)", len(typical)), unit: "ops/s"},
		{Name: "hash-200KiB", Kind: "hash", Iters: n(100), Compose: large, what: fmt.Sprintf("getComposeHash, %d KiB", len(large)>>10), unit: "ops/s"},
	}
}

// runCrypto times every case in node, then in Go, and checks the outputs:
// equal hashes, ciphertexts that decrypt to the same variables.
func runCrypto(node, dir string, o options) ([]row, error) {
	s := seed("x25519")
	priv, err := ecdh.X25519().NewPrivateKey(s[:])
	if err != nil {
		return nil, err
	}
	pub := hex.EncodeToString(priv.PublicKey().Bytes())
	cases := cryptoCases(o.cryptoScale)
	for i := range cases {
		for _, e := range cases[i].Envs {
			cases[i].JSEnvs = append(cases[i].JSEnvs, jsEnv{e.Key, e.Value})
		}
	}

	logf("TypeScript SDK: encryptEnvVars and getComposeHash x %d rounds", o.rounds)
	out, err := runNode(node, dir, cryptoScript, map[string]any{"pubkey": pub, "rounds": o.rounds, "cases": cases})
	if err != nil {
		return nil, err
	}
	var js struct {
		Cases []struct {
			Name    string    `json:"name"`
			Seconds []float64 `json:"seconds"`
			Text    []float64 `json:"seconds_text"`
			Output  string    `json:"output"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(out, &js); err != nil {
		return nil, fmt.Errorf("crypto.cjs answered %q: %w", out, err)
	}
	if len(js.Cases) != len(cases) {
		return nil, fmt.Errorf("crypto.cjs answered %d cases, want %d", len(js.Cases), len(cases))
	}

	logf("Go SDK: EncryptEnvVars and ComposeHash x %d rounds", o.rounds)
	var rows []row
	for i, c := range cases {
		var fn func() (string, error)
		if c.Kind == "encrypt" {
			fn = func() (string, error) { return phala.EncryptEnvVars(c.Envs, pub) }
		} else {
			doc := []byte(c.Compose)
			fn = func() (string, error) { return phala.ComposeHash(doc) }
		}
		var goOut string
		for range max(1, c.Iters/10) { // warm-up, as in crypto.cjs
			if goOut, err = fn(); err != nil {
				return nil, fmt.Errorf("%s: %w", c.Name, err)
			}
		}
		var secs []float64
		for range o.rounds {
			t0 := time.Now()
			for range c.Iters {
				if goOut, err = fn(); err != nil {
					return nil, fmt.Errorf("%s: %w", c.Name, err)
				}
			}
			secs = append(secs, time.Since(t0).Seconds())
		}
		jsOut := js.Cases[i].Output
		if c.Kind == "hash" {
			if goOut != jsOut {
				return nil, fmt.Errorf("%s: the hashes differ: Go %s, TypeScript %s", c.Name, goOut, jsOut)
			}
		} else {
			for who, ct := range map[string]string{"Go": goOut, "TypeScript": jsOut} {
				if err := checkCiphertext(priv, ct, c.Envs); err != nil {
					return nil, fmt.Errorf("%s: the %s ciphertext: %w", c.Name, who, err)
				}
			}
		}
		ours := float64(c.Iters) / median(secs)
		if c.Kind == "hash" {
			rows = append(rows, row{what: c.what, unit: c.unit, target: 5, theirs: float64(c.Iters) / median(js.Cases[i].Seconds), ours: ours,
				note: "JS: getComposeHash(object)"},
				row{what: c.what, unit: c.unit, target: 5, theirs: float64(c.Iters) / median(js.Cases[i].Text), ours: ours,
					note: "JS: getComposeHash(JSON.parse(text))"})
			continue
		}
		rows = append(rows, row{what: c.what, unit: c.unit, target: 5,
			theirs: float64(c.Iters) / median(js.Cases[i].Seconds), ours: ours})
	}
	return rows, nil
}

// checkCiphertext decrypts hex(ephemeral public key || IV || ciphertext ||
// tag) with priv and compares the variables with want.
func checkCiphertext(priv *ecdh.PrivateKey, ct string, want []phala.EnvVar) error {
	plain, err := envcipher.Open(priv, ct)
	if err != nil {
		return err
	}
	vars, err := envcipher.Decode(plain)
	if err != nil {
		return err
	}
	got := make([]phala.EnvVar, len(vars))
	for i, v := range vars {
		got[i] = phala.EnvVar{Key: v.Key, Value: v.Value}
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("decrypts to %d variables that differ from the %d sent", len(got), len(want))
	}
	return nil
}
