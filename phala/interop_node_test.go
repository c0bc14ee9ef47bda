package phala

import (
	"bytes"
	"crypto/ecdh"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/nodejs"
)

// These tests compare the Go implementation with the official JavaScript
// packages (@phala/cloud and @phala/dstack-sdk, versions pinned in
// internal/nodejs). Each runs a single node process for its whole corpus.

const composeInteropScript = `
const fs = require("fs");
const crypto = require("crypto");
const dstack = require("@phala/dstack-sdk");
const cloud = require("@phala/cloud");
const lines = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0);
const out = [];
for (const line of lines) {
  const obj = JSON.parse(line);
  const dump = cloud.dumpAppCompose(cloud.preprocessAppCompose(obj));
  out.push(JSON.stringify({
    hash: dstack.getComposeHash(obj),
    hashNormalized: dstack.getComposeHash(obj, true),
    cloudHash: cloud.getComposeHash(obj),
    cloudHashNormalized: cloud.getComposeHash(obj, true),
    dump: dump,
    dumpHash: crypto.createHash("sha256").update(dump, "utf8").digest("hex"),
  }));
}
process.stdout.write(out.join("\n") + "\n");
`

type composeJSResult struct {
	Hash                string `json:"hash"`
	HashNormalized      string `json:"hashNormalized"`
	CloudHash           string `json:"cloudHash"`
	CloudHashNormalized string `json:"cloudHashNormalized"`
	Dump                string `json:"dump"`
	DumpHash            string `json:"dumpHash"`
}

func TestInteropComposeHashWithJS(t *testing.T) {
	t.Parallel() // node runs in its own process: the two interop tests overlap
	dir := nodejs.Install(t)
	corpus := composeCorpus(400)
	// The known-answer documents too, and a few hand-picked edge cases.
	ka := loadKnownAnswers(t)
	for _, v := range ka.ComposeHash {
		var buf bytes.Buffer
		require.NoError(t, json.Compact(&buf, v.AppCompose))
		corpus = append(corpus, buf.String())
	}
	corpus = append(corpus,
		`{}`,
		`{"runner":"bash","docker_compose_file":"x","bash_script":"y","pre_launch_script":""}`,
		`{"runner":"docker-compose","docker_compose_file":"x","bash_script":"y"}`,
		`{"a":{"b":{"c":{"d":[1,[2,[3,{"z":0,"y":-0}]]]}}}}`,
		`{"n":[0,-0,1.0,1e21,1e-7,123456789012345678901,0.1,1e400,-1e-400]}`,
		`{"s":"\ud800\udbff\udc00\udfff x \ud83d\ude00","k\ud800":1,"k\uffff":2,"k\ud83d\ude00":3}`,
		`{"__proto__":null,"a":1}`,
		`{"__proto__":[1,2],"b":{"__proto__":{"x":1}}}`,
		`{"constructor":{"b":1,"a":2},"z":{"y":1,"x":2}}`,
	)
	var stdin bytes.Buffer
	for _, doc := range corpus {
		require.NotContains(t, doc, "\n")
		stdin.WriteString(doc)
		stdin.WriteByte('\n')
	}
	out := nodejs.Run(t, dir, composeInteropScript, stdin.Bytes())
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(corpus))

	stats := map[string]int{}
	for i, doc := range corpus {
		var js composeJSResult
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &js), "line %d", i)
		// The two JavaScript exports must agree with each other.
		require.Equal(t, js.Hash, js.CloudHash, "doc %d", i)
		require.Equal(t, js.HashNormalized, js.CloudHashNormalized, "doc %d", i)

		h, err := audited(ComposeHash([]byte(doc)))
		require.NoError(t, err, "doc %d: %s", i, doc)
		assert.Equal(t, js.Hash, h, "ComposeHash doc %d: %s", i, doc)
		hn, err := audited(ComposeHashNormalized([]byte(doc)))
		require.NoError(t, err)
		assert.Equal(t, js.HashNormalized, hn, "ComposeHashNormalized doc %d: %s", i, doc)
		dump, err := audited(DumpAppCompose([]byte(doc)))
		require.NoError(t, err)
		assert.Equal(t, js.Dump, string(dump), "DumpAppCompose doc %d: %s", i, doc)
		dh, err := audited(DumpAppComposeHash([]byte(doc)))
		require.NoError(t, err)
		assert.Equal(t, js.DumpHash, dh, "DumpAppComposeHash doc %d", i)
		if h != hn {
			stats["normalisation changed the hash"]++
		}
		if strings.Contains(doc, `\ud800`) || strings.Contains(doc, `\udfff`) {
			stats["lone surrogates"]++
		}
		if strings.Contains(string(dump), `":`+"\n") || strings.Contains(doc, `": `) {
			stats["colon-space"]++
		}
	}
	t.Logf("compared %d documents with the JavaScript packages; %v", len(corpus), stats)
	// The corpus must actually exercise the interesting paths.
	assert.Greater(t, stats["normalisation changed the hash"], 50)
	assert.Greater(t, stats["lone surrogates"], 20)
}

const envInteropScript = `
const fs = require("fs");
const crypto = require("crypto");
const { encryptEnvVars } = require("@phala/dstack-sdk/encrypt-env-vars");
const { verifyEnvEncryptPublicKey, verifyEnvEncryptPublicKeyLegacy } = require("@phala/dstack-sdk/verify-env-encrypt-public-key");
const b64u = (hex) => Buffer.from(hex, "hex").toString("base64url");
function decrypt(encHex, privHex, pubHex) {
  const raw = Buffer.from(encHex, "hex");
  const privateKey = crypto.createPrivateKey({ key: { kty: "OKP", crv: "X25519", d: b64u(privHex), x: b64u(pubHex) }, format: "jwk" });
  const publicKey = crypto.createPublicKey({ key: { kty: "OKP", crv: "X25519", x: raw.subarray(0, 32).toString("base64url") }, format: "jwk" });
  const shared = crypto.diffieHellman({ privateKey, publicKey });
  const d = crypto.createDecipheriv("aes-256-gcm", shared, raw.subarray(32, 44));
  d.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([d.update(raw.subarray(44, raw.length - 16)), d.final()]).toString("utf8");
}
(async () => {
  const lines = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0);
  const out = [];
  for (const line of lines) {
    const c = JSON.parse(line);
    if (c.kind === "env") {
      const plain = decrypt(c.enc, c.priv, c.pub);
      out.push(JSON.stringify({
        plain,
        sameAsJS: plain === JSON.stringify({ env: c.envs }),
        jsEnc: await encryptEnvVars(c.envs, c.pub),
      }));
    } else {
      const pub = Buffer.from(c.pub, "hex"), sig = Buffer.from(c.sig, "hex");
      const signer = c.ts === 0
        ? verifyEnvEncryptPublicKeyLegacy(pub, sig, c.app)
        : verifyEnvEncryptPublicKey(pub, sig, c.app, BigInt(c.ts));
      out.push(JSON.stringify({ signer }));
    }
  }
  process.stdout.write(out.join("\n") + "\n");
})().catch((e) => { console.error(e); process.exit(1); });
`

type jsEnvVar struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

var envValuePieces = []string{
	"a", "Z", "0", " ", "=", "#", "value", "é", "ü", "中文", "😀", "🎉", "\n", "\r\n", "\t", "\"", "\\", "'", "`",
	"<", ">", "&", "<script>", "\u2028", "\u2029", "\x00", "\x01", "\x1f", "\x7f", "\u00a0", "\ufeff", "\uffff", "$HOME", "${X}", `\n`, `\u0041`,
}

func envCorpus() [][]EnvVar {
	r := rand.New(rand.NewPCG(7, 11))
	var sets [][]EnvVar
	for s := 0; s < 40; s++ {
		n := 1 + r.IntN(30)
		set := make([]EnvVar, n)
		for i := range set {
			var v strings.Builder
			for p := r.IntN(12); p > 0; p-- {
				v.WriteString(envValuePieces[r.IntN(len(envValuePieces))])
			}
			key := fmt.Sprintf("%c%s_%d", "AZ_az"[r.IntN(5)], []string{"", "KEY", "x9", "Db_Url"}[r.IntN(4)], i)
			set[i] = EnvVar{Key: key, Value: v.String()}
		}
		sets = append(sets, set)
	}
	// limits: the largest set and the largest value
	big := make([]EnvVar, MaxEnvVars)
	for i := range big {
		big[i] = EnvVar{fmt.Sprintf("K%04d", i), strings.Repeat("v", 900)}
	}
	sets = append(sets, big, []EnvVar{{strings.Repeat("K", MaxEnvKeyBytes), strings.Repeat("é", MaxEnvValueBytes/2)}})
	return sets
}

func TestInteropEnvWithJS(t *testing.T) {
	t.Parallel() // node runs in its own process: the two interop tests overlap
	dir := nodejs.Install(t)
	sets := envCorpus()
	r := rand.New(rand.NewPCG(3, 5))
	type envCase struct {
		Kind string     `json:"kind"`
		Priv string     `json:"priv"`
		Pub  string     `json:"pub"`
		Enc  string     `json:"enc"`
		Envs []jsEnvVar `json:"envs"`
	}
	type sigCase struct {
		Kind string `json:"kind"`
		Pub  string `json:"pub"`
		Sig  string `json:"sig"`
		App  string `json:"app"`
		TS   uint64 `json:"ts"`
	}
	var stdin bytes.Buffer
	enc := json.NewEncoder(&stdin)
	enc.SetEscapeHTML(false)
	privs := make([]*ecdh.PrivateKey, len(sets))
	for i, set := range sets {
		seed := make([]byte, 32)
		for j := range seed {
			seed[j] = byte(r.Uint32())
		}
		priv, err := ecdh.X25519().NewPrivateKey(seed)
		require.NoError(t, err)
		privs[i] = priv
		pub := hex.EncodeToString(priv.PublicKey().Bytes())
		ct, err := audited(EncryptEnvVars(secretEnvs(set), pub))
		require.NoError(t, err)
		js := make([]jsEnvVar, len(set))
		for j, e := range set {
			js[j] = jsEnvVar(e)
		}
		require.NoError(t, enc.Encode(envCase{"env", hex.EncodeToString(seed), pub, ct, js}))
	}

	// Signatures made in Go, recovered by the JavaScript verifier.
	type sigWant struct{ signer string }
	var sigWants []sigWant
	now := time.Now()
	for i := 0; i < 10; i++ {
		key, err := secp256k1.GeneratePrivateKey()
		require.NoError(t, err)
		pub := make([]byte, 32)
		app := make([]byte, 20)
		for j := range pub {
			pub[j] = byte(r.Uint32())
		}
		for j := range app {
			app[j] = byte(r.Uint32())
		}
		msg := append([]byte("dstack-env-encrypt-pubkey:"), app...)
		var ts uint64
		if i%2 == 1 {
			ts = uint64(now.Unix()) - uint64(i)
			msg = binary.BigEndian.AppendUint64(msg, ts)
		}
		msg = append(msg, pub...)
		sig := signEnvPubkey(t, key, msg)
		var got string
		if ts == 0 {
			got, err = audited(VerifyEnvEncryptPublicKey(pub, sig, hex.EncodeToString(app)))
		} else {
			got, err = audited(VerifyEnvEncryptPublicKeyAt(pub, sig, hex.EncodeToString(app), ts, now))
		}
		require.NoError(t, err)
		want := "0x" + hex.EncodeToString(key.PubKey().SerializeCompressed())
		require.Equal(t, want, got)
		sigWants = append(sigWants, sigWant{want})
		require.NoError(t, enc.Encode(sigCase{"sig", hex.EncodeToString(pub), hex.EncodeToString(sig), hex.EncodeToString(app), ts}))
	}
	// The known-answer signature as well.
	ka := loadKnownAnswers(t).PubkeySig
	sigWants = append(sigWants, sigWant{ka.Signer})
	require.NoError(t, enc.Encode(sigCase{"sig", ka.PublicKey, ka.Signature, ka.AppID, 0}))

	out := nodejs.Run(t, dir, envInteropScript, stdin.Bytes())
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(sets)+len(sigWants))

	for i, set := range sets {
		var res struct {
			Plain    string `json:"plain"`
			SameAsJS bool   `json:"sameAsJS"`
			JSEnc    string `json:"jsEnc"`
		}
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &res))
		// Go -> JS: node decrypted our ciphertext to exactly the plaintext
		// JSON.stringify({env}) gives.
		assert.True(t, res.SameAsJS, "set %d: plaintext differs from JSON.stringify", i)
		assert.Equal(t, string(envPlaintext(set)), res.Plain, "set %d", i)
		// JS -> Go: we decrypt what the JavaScript SDK encrypted.
		got, plain := decryptEnvVars(t, res.JSEnc, privs[i])
		assert.Equal(t, set, got, "set %d", i)
		assert.Equal(t, string(envPlaintext(set)), string(plain), "set %d", i)
	}
	for i, w := range sigWants {
		var res struct {
			Signer *string `json:"signer"`
		}
		require.NoError(t, json.Unmarshal([]byte(lines[len(sets)+i]), &res))
		require.NotNil(t, res.Signer, "signature %d not accepted by JavaScript", i)
		assert.Equal(t, w.signer, *res.Signer, "signature %d", i)
	}
	t.Logf("%d env sets both ways, %d signatures compared with the JavaScript SDK", len(sets), len(sigWants))
}
