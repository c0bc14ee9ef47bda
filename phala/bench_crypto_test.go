package phala

import (
	"crypto/ecdh"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
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
			envs[i] = EnvVar{fmt.Sprintf("VAR_%d", i), "value-" + strings.Repeat("x", 32) + strconv.Itoa(i)}
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(envPlaintext(envs))))
			for b.Loop() {
				if _, err := EncryptEnvVars(envs, pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchComposes returns a typical app-compose and one of about 200 KiB.
func benchComposes() map[string][]byte {
	typical := `{"name":"my-app","runner":"docker-compose","manifest_version":2,` +
		`"docker_compose_file":"services:\n  app:\n    image: ghcr.io/example/app:1.2.3\n    ports:\n      - \"8080:8080\"\n    environment:\n      - DB_URL=${DB_URL}\n      - API_KEY=${API_KEY}\n    volumes:\n      - /var/run/tappd.sock:/var/run/tappd.sock\n",` +
		`"pre_launch_script":"#!/bin/bash\necho \"pre-launch\"\n","allowed_envs":["DB_URL","API_KEY"],"features":["kms","tproxy-net"],` +
		`"kms_enabled":true,"gateway_enabled":true,"public_logs":true,"public_sysinfo":true,"public_tcbinfo":true,"local_key_provider_enabled":false,"no_instance_id":false,"secure_time":false}`
	var svc strings.Builder
	svc.WriteString("services:\\n")
	for i := 0; svc.Len() < 200<<10; i++ {
		fmt.Fprintf(&svc, "  svc%d:\\n    image: \\\"registry.example.com/team/service-%d:v1.%d\\\"\\n    environment:\\n      - KEY_%d=<value & more>\\n    command: [\\\"run\\\", \\\"--port\\\", \\\"%d\\\"]\\n", i, i, i, i, 8000+i)
	}
	large := strings.Replace(typical, `"docker_compose_file":"`, `"docker_compose_file":"`+svc.String(), 1)
	return map[string][]byte{"typical": []byte(typical), "200KiB": []byte(large)}
}

func BenchmarkComposeHash(b *testing.B) {
	docs := benchComposes()
	for _, name := range []string{"typical", "200KiB"} {
		doc := docs[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := ComposeHash(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDumpAppCompose(b *testing.B) {
	docs := benchComposes()
	for _, name := range []string{"typical", "200KiB"} {
		doc := docs[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := DumpAppCompose(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBenchComposesAreValid(t *testing.T) {
	for name, doc := range benchComposes() {
		if _, err := ComposeHash(doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "200KiB" && len(doc) < 200<<10 {
			t.Fatalf("large compose is only %d bytes", len(doc))
		}
	}
}
