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
