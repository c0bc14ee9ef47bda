package phala

import (
	"bytes"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/phalacloud/go-sdk/internal/jsjson"
)

func FuzzParseEnvFile(f *testing.F) {
	f.Add("A=1\nexport B='x y' # c\nC=\"multi\nline \\\" \\\\ \\n\"\n# comment\nD = a=b #x\n")
	f.Add("A=\"unterminated\nB=2")
	f.Add("\xff=1")
	f.Add("A='a'b")
	f.Fuzz(func(t *testing.T, in string) {
		envs, err := audited(ParseEnvFile(strings.NewReader(in)))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error message: %q", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range envs {
			if !validEnvKey(e.Key) || seen[e.Key] {
				t.Fatalf("bad or repeated key %q", e.Key)
			}
			seen[e.Key] = true
		}
		// Writing the variables back in double quotes parses to the same.
		var b strings.Builder
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
		for _, e := range envs {
			b.WriteString(e.Key + `="` + r.Replace(e.Value) + "\"\n")
		}
		again, err := audited(ParseEnvFile(strings.NewReader(b.String())))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(again) != len(envs) {
			t.Fatalf("re-parse gave %d entries, want %d", len(again), len(envs))
		}
		for i := range envs {
			if envs[i] != again[i] {
				t.Fatalf("entry %d changed: %q -> %q", i, envs[i].Key+"="+envs[i].Value, again[i].Key+"="+again[i].Value)
			}
		}
	})
}

func addComposeSeeds(f *testing.F) {
	for _, doc := range composeCorpus(20) {
		f.Add([]byte(doc))
	}
	f.Add([]byte(`{"a":[1e400,-0,"\ud800"],"constructor":{"b":1,"a":2},"__proto__":{}}`))
	f.Add([]byte(`{"runner":"bash","docker_compose_file":"x","pre_launch_script":0}`))
}

func FuzzComposeHash(f *testing.F) {
	addComposeSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := audited(ComposeHash(in))
		if err != nil {
			return
		}
		v, err := jsjson.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		canon := v.Sorted().Stringify("")
		if !json.Valid(canon) {
			t.Fatalf("invalid JSON output %q", canon)
		}
		if sha256Hex(canon) != h {
			t.Fatal("hash is not the SHA-256 of the canonical text")
		}
		// The canonical text parses back to the same value: serialising it
		// again gives the same bytes and the same hash.
		v2, err := jsjson.Parse(canon)
		if err != nil {
			t.Fatalf("canonical output does not parse: %v", err)
		}
		if again := v2.Sorted().Stringify(""); !bytes.Equal(again, canon) {
			t.Fatalf("not stable:\n%q\n%q", canon, again)
		}
		// encoding/json agrees that it is the same value, where it can tell
		// (it cannot carry lone surrogates, and both sides drop nothing else).
		var a, b any
		if json.Unmarshal(canon, &a) != nil || json.Unmarshal(v2.Stringify(""), &b) != nil {
			t.Fatal("encoding/json refuses the output")
		}
		if _, err := audited(ComposeHashNormalized(in)); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzDumpAppCompose(f *testing.F) {
	addComposeSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		dump, err := audited(DumpAppCompose(in))
		if err != nil {
			return
		}
		if !json.Valid(dump) {
			t.Fatalf("invalid JSON output %q", dump)
		}
		// No check that `": ` is gone: the replacement is one
		// non-overlapping pass, as in JavaScript, and may create one (a value
		// of ":  " dumps as `": "`; seed 8a666c022aa5ac29). The interop test
		// compares the dump with the JS package's byte for byte.
		h, err := audited(DumpAppComposeHash(in))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(dump)
		if h != hex.EncodeToString(sum[:]) {
			t.Fatal("DumpAppComposeHash is not the SHA-256 of DumpAppCompose")
		}
		// Unless a string holds a colon-space (which the dump rewrites), the
		// dump parses back to the normalised value.
		v, err := jsjson.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		want := normalizeAppCompose(v).Sorted().Stringify("")
		if !bytes.Contains(want, []byte(`": `)) {
			d, err := jsjson.Parse(dump)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Sorted().Stringify(""); !bytes.Equal(got, want) {
				t.Fatalf("dump does not parse back to the value:\n%q\n%q", got, want)
			}
		}
	})
}

func FuzzEncryptEnvVars(f *testing.F) {
	f.Add("FOO", "bar", []byte{1, 2, 3})
	f.Add("_", "", []byte{})
	f.Add("A1", "é😀\n\"\\<>&\u2028\x00", []byte{0xff})
	f.Fuzz(func(t *testing.T, key, value string, seed []byte) {
		s := sha256.Sum256(seed)
		priv, err := ecdh.X25519().NewPrivateKey(s[:])
		if err != nil {
			t.Fatal(err)
		}
		envs := []EnvVar{{key, value}, {"FUZZ_SECOND", value + key}}
		if key == "FUZZ_SECOND" {
			envs = envs[:1]
		}
		enc, err := audited(EncryptEnvVars(secretEnvs(envs), hex.EncodeToString(priv.PublicKey().Bytes())))
		if err != nil {
			if strings.Contains(err.Error(), value) && len(value) > 3 && !strings.Contains(key, value) {
				t.Fatalf("error reveals the value: %v", err)
			}
			return
		}
		got, plain := decryptEnvVars(t, enc, priv)
		if len(got) != len(envs) {
			t.Fatalf("got %d entries", len(got))
		}
		for i := range envs {
			if got[i] != envs[i] {
				t.Fatalf("entry %d changed", i)
			}
		}
		if !bytes.Equal(plain, envPlaintext(envs)) {
			t.Fatal("plaintext differs")
		}
	})
}

func FuzzVerifyEnvEncryptPublicKey(f *testing.F) {
	pub, _ := hex.DecodeString("e33a1832c6562067ff8f844a61e51ad051f1180b66ec2551fb0251735f3ee90a")
	sig, _ := hex.DecodeString("8542c49081fbf4e03f62034f13fbf70630bdf256a53032e38465a27c36fd6bed7a5e7111652004aef37f7fd92fbfc1285212c4ae6a6154203a48f5e16cad2cef00")
	f.Add(pub, sig, "0000000000000000000000000000000000000000", uint64(0))
	f.Add(pub, sig[:64], "app_0000000000000000000000000000000000000000", uint64(1))
	f.Add([]byte{}, make([]byte, 65), "0x", uint64(math.MaxUint64))
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, pub, sig []byte, app string, ts uint64) {
		check := func(signer string, err error) {
			if err != nil {
				return
			}
			if len(signer) != 68 || !(strings.HasPrefix(signer, "0x02") || strings.HasPrefix(signer, "0x03")) {
				t.Fatalf("bad signer %q", signer)
			}
		}
		check(audited(VerifyEnvEncryptPublicKey(pub, sig, app)))
		check(audited(VerifyEnvEncryptPublicKeyAt(pub, sig, app, ts, now)))
		check(audited(VerifyEnvEncryptPublicKeyAt(pub, sig, app, uint64(now.Unix())-ts%300, now)))
	})
}
