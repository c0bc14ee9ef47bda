package phala

import (
	"crypto/ecdh"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/phalacloud/go-sdk/internal/benchdata"
)

func BenchmarkEncryptEnvVars(b *testing.B) {
	priv, err := ecdh.X25519().NewPrivateKey(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	pub := hex.EncodeToString(priv.PublicKey().Bytes())
	for _, n := range []int{1, 100, 1024} {
		envs := make([]EnvVar, n)
		for i := range envs {
			k, v := benchdata.EnvVar(i)
			envs[i] = EnvVar{k, v}
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(envPlaintext(envs))))
			for b.Loop() {
				if _, err := audited(EncryptEnvVars(secretEnvs(envs), pub)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchComposes returns the inputs bench/compare times too.
func benchComposes() map[string][]byte {
	typical, large := benchdata.Composes()
	return map[string][]byte{"typical": []byte(typical), "200KiB": []byte(large)}
}

func BenchmarkComposeHash(b *testing.B) {
	benchComposeFunc(b, func(doc []byte) error { _, err := audited(ComposeHash(doc)); return err })
}

func BenchmarkDumpAppCompose(b *testing.B) {
	benchComposeFunc(b, func(doc []byte) error { _, err := audited(DumpAppCompose(doc)); return err })
}

// benchComposeFunc times fn on each benchmark compose, as sub-benchmarks
// "typical" and "200KiB".
func benchComposeFunc(b *testing.B, fn func([]byte) error) {
	docs := benchComposes()
	for _, name := range []string{"typical", "200KiB"} {
		doc := docs[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if err := fn(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBenchComposesAreValid(t *testing.T) {
	for name, doc := range benchComposes() {
		if _, err := audited(ComposeHash(doc)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "200KiB" && len(doc) < 200<<10 {
			t.Fatalf("large compose is only %d bytes", len(doc))
		}
	}
}
