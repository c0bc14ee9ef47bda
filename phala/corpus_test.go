package phala

import (
	"math/rand/v2"
	"strings"
)

// Deterministic generator of app-compose JSON texts that exercise the
// JavaScript serialisation rules: escapes, lone surrogates, non-ASCII and
// HTML characters, numbers of every shape, key ordering quirks, both
// runners and the pre_launch_script cases. Every document is one line.

// jsonStringPieces are fragments of JSON string contents (already escaped).
var jsonStringPieces = []string{
	"a", "Z", "hello", " ", "_", "0", "9",
	`\": `, `\": x`, `\":`, ": ", `\":\n`,
	"<", ">", "&", "<script>", "&amp;", `\u003c`, `\u0026`,
	"é", "ü", "ｆ", "中文", "\u2028", "\u2029", `\u2028`, "\u00a0", "\u007f", `\u007F`,
	"😀", "🎉", `\ud83d\ude00`, `\uD83D\uDE00`, `\ud800`, `\udfff`, `\uDBFF`, `\ud83d`, `\ude00x`, `\ud800\ud800`,
	`\n`, `\r`, `\t`, `\b`, `\f`, `\u0000`, `\u0001`, `\u001f`, `\u001F`, `\"`, `\\`, `\/`, "/",
	"services:\\n  app:\\n    image: nginx:latest\\n",
	"    indented", "#!/bin/sh\\necho \\\"hi\\\"",
}

var jsonNumberShapes = []string{
	"0", "-0", "1", "-1", "1.0", "2.50", "-0.0", "0.1", "0.2", "0.30000000000000004",
	"1e21", "1E21", "1e+21", "1e20", "100000000000000000000", "1e-7", "1e-6", "0.000001", "0.0000001",
	"123456789012345678901", "9007199254740993", "9007199254740992", "-1.5E+3", "1e+2", "123e-20",
	"5e-324", "1.7976931348623157e308", "1e400", "-1e400", "1e-400", "4.35", "0.5e1", "2", "3.14159",
	"1.5e300", "12345678.9", "-7e-7", "1.23456789012345678e-5",
}

var jsonKeyPieces = []string{
	"a", "b", "A", "B", "_x", "z9", "é", "ｆ", "😀", "中", "key", "Key", "a b", "",
	"10", "9", "0", "01", "4294967294", "4294967295", "-1", "1.5",
	`\ud800`, `\u00e9`, "\u2028", "<", "&", `\": `,
}

type composeGen struct{ r *rand.Rand }

func newComposeGen(seed uint64) *composeGen {
	return &composeGen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *composeGen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *composeGen) ws() string {
	switch g.r.IntN(6) {
	case 0:
		return " "
	case 1:
		return "\t "
	}
	return ""
}

func (g *composeGen) str(maxPieces int) string {
	var b strings.Builder
	b.WriteByte('"')
	for n := g.r.IntN(maxPieces + 1); n > 0; n-- {
		b.WriteString(g.pick(jsonStringPieces))
	}
	b.WriteByte('"')
	return b.String()
}

func (g *composeGen) key() string {
	if g.r.IntN(3) == 0 {
		return g.str(3)
	}
	var b strings.Builder
	b.WriteByte('"')
	for n := 1 + g.r.IntN(2); n > 0; n-- {
		b.WriteString(g.pick(jsonKeyPieces))
	}
	b.WriteByte('"')
	return b.String()
}

func (g *composeGen) value(depth int) string {
	k := g.r.IntN(10)
	if depth <= 0 && k >= 7 {
		k = g.r.IntN(7)
	}
	switch k {
	case 0:
		return "null"
	case 1:
		return []string{"true", "false"}[g.r.IntN(2)]
	case 2, 3:
		return g.pick(jsonNumberShapes)
	case 4, 5, 6:
		return g.str(6)
	case 7, 8:
		return g.object(depth-1, g.r.IntN(5))
	default:
		n := g.r.IntN(5)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = g.ws() + g.value(depth-1) + g.ws()
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
}

func (g *composeGen) object(depth, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.ws() + g.key() + g.ws() + ":" + g.ws() + g.value(depth)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// doc returns one app-compose document.
func (g *composeGen) doc() string {
	type kv struct{ k, v string }
	var fields []kv
	add := func(k, v string) { fields = append(fields, kv{`"` + k + `"`, v}) }
	add("name", g.str(3))
	switch g.r.IntN(6) {
	case 0, 1:
		add("runner", `"docker-compose"`)
	case 2, 3:
		add("runner", `"bash"`)
	case 4:
		add("runner", g.pick([]string{`"other"`, `"Bash"`, `1`, `null`, `["bash"]`}))
	}
	if g.r.IntN(4) != 0 {
		add("docker_compose_file", g.str(8))
	}
	if g.r.IntN(2) == 0 {
		add("bash_script", g.str(5))
	}
	switch g.r.IntN(8) {
	case 0, 1:
		add("pre_launch_script", `""`)
	case 2, 3:
		add("pre_launch_script", g.str(5))
	case 4:
		add("pre_launch_script", g.pick([]string{"null", "false", "0", "-0", "0.0", "true", "1", "{}", "[]", `" "`}))
	}
	add("manifest_version", g.pick([]string{"2", "2.0", "1", "2e0", "20e-1"}))
	if g.r.IntN(2) == 0 {
		n := g.r.IntN(4)
		envs := make([]string, n)
		for i := range envs {
			envs[i] = g.str(2)
		}
		add("allowed_envs", "["+strings.Join(envs, ",")+"]")
	}
	for _, f := range []string{"kms_enabled", "gateway_enabled", "public_logs", "public_sysinfo", "public_tcbinfo", "secure_time", "no_instance_id"} {
		if g.r.IntN(2) == 0 {
			add(f, []string{"true", "false"}[g.r.IntN(2)])
		}
	}
	if g.r.IntN(3) == 0 {
		add("features", `["kms",`+g.str(2)+`]`)
	}
	for n := g.r.IntN(4); n > 0; n-- {
		fields = append(fields, kv{g.key(), g.value(3)})
	}
	if g.r.IntN(8) == 0 { // a duplicate key: last value wins
		f := fields[g.r.IntN(len(fields))]
		fields = append(fields, kv{f.k, g.value(1)})
	}
	if g.r.IntN(12) == 0 { // the prototype and constructor quirks
		fields = append(fields, kv{`"__proto__"`, g.value(1)})
	}
	if g.r.IntN(12) == 0 {
		fields = append(fields, kv{`"x"`, `{"b":1,"constructor":` + g.value(1) + `,"a":{"d":1,"c":2}}`})
	}
	g.r.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = g.ws() + f.k + g.ws() + ":" + g.ws() + f.v + g.ws()
	}
	return g.ws() + "{" + strings.Join(parts, ",") + "}" + g.ws()
}

// composeCorpus returns n deterministic documents.
func composeCorpus(n int) []string {
	g := newComposeGen(20260523)
	out := make([]string, n)
	for i := range out {
		out[i] = g.doc()
	}
	return out
}
