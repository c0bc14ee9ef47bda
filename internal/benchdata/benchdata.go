// Package benchdata holds the inputs that the Go benchmarks and
// bench/compare time, so both measure the same documents.
package benchdata

import (
	"fmt"
	"strconv"
	"strings"
)

// Composes returns a typical app-compose and one of about 200 KiB (the
// typical one with a long docker_compose_file holding <, & and quotes).
func Composes() (typical, large string) {
	typical = `{"name":"my-app","runner":"docker-compose","manifest_version":2,` +
		`"docker_compose_file":"services:\n  app:\n    image: ghcr.io/example/app:1.2.3\n    ports:\n      - \"8080:8080\"\n    environment:\n      - DB_URL=${DB_URL}\n      - API_KEY=${API_KEY}\n    volumes:\n      - /var/run/tappd.sock:/var/run/tappd.sock\n",` +
		`"pre_launch_script":"#!/bin/bash\necho \"pre-launch\"\n","allowed_envs":["DB_URL","API_KEY"],"features":["kms","tproxy-net"],` +
		`"kms_enabled":true,"gateway_enabled":true,"public_logs":true,"public_sysinfo":true,"public_tcbinfo":true,"local_key_provider_enabled":false,"no_instance_id":false,"secure_time":false}`
	var svc strings.Builder
	svc.WriteString("services:\\n")
	for i := 0; svc.Len() < 200<<10; i++ {
		fmt.Fprintf(&svc, "  svc%d:\\n    image: \\\"registry.example.com/team/service-%d:v1.%d\\\"\\n    environment:\\n      - KEY_%d=<value & more>\\n    command: [\\\"run\\\", \\\"--port\\\", \\\"%d\\\"]\\n", i, i, i, i, 8000+i)
	}
	large = strings.Replace(typical, `"docker_compose_file":"`, `"docker_compose_file":"`+svc.String(), 1)
	return typical, large
}

// EnvVar returns the key and value of the i-th benchmark variable.
func EnvVar(i int) (key, value string) {
	return fmt.Sprintf("VAR_%d", i), "value-" + strings.Repeat("x", 32) + strconv.Itoa(i)
}

// Detail is a CVM detail of the 2026-01-21 shape with the fields and sizes
// phalatest's fake answers for an on-chain CVM: 935 bytes, no API key in
// it. The bench package's GetCVMInfo contenders and phala's decoding and
// scrubbing benchmarks read it.
const Detail = `{"id":"cvm_5f0f9c3a2b1d4e6f8a7b9c0d1e2f3a4b","name":"my-app","app_id":"9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a69788796",` +
	`"vm_uuid":"3f2504e04f8941d39a0c0305e82c3301","instance_id":"instance_3f2504e04f8941d39a0c0305e82c3301",` +
	`"resource":{"instance_type":"tdx.medium","vcpu":2,"memory_in_gb":4,"disk_in_gb":40,"gpus":0},` +
	`"os":{"name":"dstack-0.5.4","version":"0.5.4","is_dev":false},"kms_type":"base",` +
	`"kms_info":{"chain_id":8453,"dstack_kms_address":"0x2f83172a49584c017f2b256f0fb2dca14126ba9c",` +
	`"dstack_app_address":"0x9b5b3c1a4f2e6d7c8b9a0f1e2d3c4b5a69788796","deployer_address":"0x6b3c1c2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c",` +
	`"rpc_endpoint":"https://rpc.fake.invalid/kms-base-prod7","encrypted_env_pubkey":null,"id":"kms_8a7b6c5d4e3f2a1b","slug":"kms-base-prod7"},` +
	`"status":"running","progress":null,"compose_hash":"c2d5f8a1b4e7d0c3f6a9b2e5d8c1f4a7b0e3d6c9f2a5b8e1d4c7f0a3b6e9d2c5",` +
	`"gateway":{"base_domain":"dstack-base-prod7.phala.network","cname":null},"services":[],` +
	`"public_logs":true,"public_sysinfo":false,"public_tcbinfo":true,"gateway_enabled":true,"secure_time":false,"listed":false,"storage_fs":"zfs"}`
