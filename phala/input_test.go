package phala_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

func TestBadInputIsRefusedBeforeSending(t *testing.T) {
	ctx := context.Background()
	big := strings.Repeat("x", 150<<10)
	half := strings.Repeat("y", 60<<10)
	overLimit := strings.Repeat("z", phala.MaxComposeSize+1)

	type tc struct {
		name  string
		field string
		call  func(c *phala.Client) error
	}
	dc := func(id, compose string, o *phala.ComposeUpdateOptions) func(c *phala.Client) error {
		return func(c *phala.Client) error { _, err := audited(c.UpdateDockerCompose(ctx, id, compose, o)); return err }
	}
	pls := func(id, script string, o *phala.ComposeUpdateOptions) func(c *phala.Client) error {
		return func(c *phala.Client) error {
			_, err := audited(c.UpdatePreLaunchScript(ctx, id, script, o))
			return err
		}
	}
	res := func(id string, r *phala.UpdateResourcesRequest) func(c *phala.Client) error {
		return func(c *phala.Client) error { return auditedErr(c.UpdateCVMResources(ctx, id, r)) }
	}
	vis := func(id string, r *phala.UpdateVisibilityRequest) func(c *phala.Client) error {
		return func(c *phala.Client) error { _, err := audited(c.UpdateCVMVisibility(ctx, id, r)); return err }
	}
	envs := func(id string, r *phala.UpdateEnvsRequest) func(c *phala.Client) error {
		return func(c *phala.Client) error { _, err := audited(c.UpdateCVMEnvs(ctx, id, r)); return err }
	}
	osi := func(id string, r *phala.UpdateOSImageRequest) func(c *phala.Client) error {
		return func(c *phala.Client) error { return auditedErr(c.UpdateOSImage(ctx, id, r)) }
	}
	patch := func(id string, r *phala.PatchCVMRequest) func(c *phala.Client) error {
		return func(c *phala.Client) error { _, err := audited(c.PatchCVM(ctx, id, r)); return err }
	}
	confirm := func(id string, r *phala.ConfirmCVMPatchRequest) func(c *phala.Client) error {
		return func(c *phala.Client) error { _, err := audited(c.ConfirmCVMPatch(ctx, id, r)); return err }
	}
	prov := func(id string, r *phala.ProvisionComposeUpdateRequest) func(c *phala.Client) error {
		return func(c *phala.Client) error {
			_, err := audited(c.ProvisionCVMComposeFileUpdate(ctx, id, r))
			return err
		}
	}
	commit := func(id string, r *phala.CommitComposeUpdateRequest) func(c *phala.Client) error {
		return func(c *phala.Client) error { return auditedErr(c.CommitCVMComposeFileUpdate(ctx, id, r)) }
	}
	get := func(id string) func(c *phala.Client) error {
		return func(c *phala.Client) error { _, err := audited(c.GetCVMInfo(ctx, id)); return err }
	}

	cases := []tc{
		// cvmID, on every method
		{"compose: empty id", "cvmID", dc("", testCompose, nil)},
		{"compose: dot-dot id", "cvmID", dc("..", testCompose, nil)},
		{"compose: dot id", "cvmID", dc(".", testCompose, nil)},
		{"compose: dots-only id", "cvmID", dc("...", testCompose, nil)},
		{"compose: id with a space", "cvmID", dc("my app", testCompose, nil)},
		{"compose: id with a newline", "cvmID", dc("my-app\n", testCompose, nil)},
		{"compose: id too long", "cvmID", dc(strings.Repeat("a", 257), testCompose, nil)},
		{"script: empty id", "cvmID", pls("", "#!/bin/sh", nil)},
		{"resources: dot-dot id", "cvmID", res("..", &phala.UpdateResourcesRequest{VCPU: phala.Int(1)})},
		{"visibility: empty id", "cvmID", vis("", &phala.UpdateVisibilityRequest{PublicLogs: phala.Bool(true)})},
		{"envs: dot-dot id", "cvmID", envs("..", &phala.UpdateEnvsRequest{EncryptedEnv: encHex})},
		{"os image: empty id", "cvmID", osi("", &phala.UpdateOSImageRequest{OSImageName: "x"})},
		{"patch: dot-dot id", "cvmID", patch("..", &phala.PatchCVMRequest{VCPU: phala.Int(1)})},
		{"confirm: empty id", "cvmID", confirm("", &phala.ConfirmCVMPatchRequest{ComposeHash: testHash, TransactionHash: testTx})},
		{"provision: dot-dot id", "cvmID", prov("..", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: testCompose})},
		{"commit: empty id", "cvmID", commit("", &phala.CommitComposeUpdateRequest{ComposeHash: testHash})},
		{"get: dot-dot id", "cvmID", get("..")},

		// nil requests
		{"resources: nil", "req", res("my-app", nil)},
		{"visibility: nil", "req", vis("my-app", nil)},
		{"envs: nil", "req", envs("my-app", nil)},
		{"os image: nil", "req", osi("my-app", nil)},
		{"patch: nil", "req", patch("my-app", nil)},
		{"confirm: nil", "req", confirm("my-app", nil)},
		{"provision: nil", "req", prov("my-app", nil)},
		{"commit: nil", "req", commit("my-app", nil)},

		// empty content
		{"compose: empty", "compose", dc("my-app", "", nil)},
		{"compose: white space", "compose", dc("my-app", " \n\t", nil)},
		{"compose: over 200 KiB", "compose", dc("my-app", overLimit, nil)},
		{"script: empty", "script", pls("my-app", "", nil)},
		{"script: over 200 KiB", "script", pls("my-app", overLimit, nil)},
		{"os image: empty name", "req.OSImageName", osi("my-app", &phala.UpdateOSImageRequest{})},
		{"os image: blank name", "req.OSImageName", osi("my-app", &phala.UpdateOSImageRequest{OSImageName: "  "})},
		{"patch: empty OS image name", "req.OSImageName", patch("my-app", &phala.PatchCVMRequest{OSImageName: phala.String("")})},
		{"patch: empty compose", "req.DockerComposeFile", patch("my-app", &phala.PatchCVMRequest{DockerComposeFile: phala.String("")})},
		{"visibility: nothing set", "req", vis("my-app", &phala.UpdateVisibilityRequest{})},
		{"patch: nothing set", "req", patch("my-app", &phala.PatchCVMRequest{})},
		{"patch: only phase 2 values", "req", patch("my-app", &phala.PatchCVMRequest{ComposeHash: phala.String(testHash), TransactionHash: phala.String(testTx), PrepareOnly: true})},
		{"provision: nothing set", "req", prov("my-app", &phala.ProvisionComposeUpdateRequest{})},
		{"provision: empty name", "req.Name", prov("my-app", &phala.ProvisionComposeUpdateRequest{Name: phala.String("")})},

		// encrypted env
		{"envs: empty", "req.EncryptedEnv", envs("my-app", &phala.UpdateEnvsRequest{})},
		{"envs: not hex", "req.EncryptedEnv", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: "zz00"})},
		{"envs: odd length", "req.EncryptedEnv", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: "abc"})},
		{"envs: 0x prefix", "req.EncryptedEnv", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: "0x" + encHex})},
		{"patch: not hex", "req.EncryptedEnv", patch("my-app", &phala.PatchCVMRequest{EncryptedEnv: phala.String("not hex!")})},
		{"patch: empty env", "req.EncryptedEnv", patch("my-app", &phala.PatchCVMRequest{EncryptedEnv: phala.String("")})},
		{"commit: not hex", "req.EncryptedEnv", commit("my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash, EncryptedEnv: "g0"})},

		// hashes
		{"compose: malformed compose hash", "opts.ComposeHash", dc("my-app", testCompose, &phala.ComposeUpdateOptions{ComposeHash: "0xabc123...", TransactionHash: testTx})},
		{"compose: malformed tx hash", "opts.TransactionHash", dc("my-app", testCompose, &phala.ComposeUpdateOptions{ComposeHash: testHash, TransactionHash: testHash})},
		{"compose: only the compose hash", "opts.ComposeHash/TransactionHash", dc("my-app", testCompose, &phala.ComposeUpdateOptions{ComposeHash: testHash})},
		{"compose: only the tx hash", "opts.ComposeHash/TransactionHash", dc("my-app", testCompose, &phala.ComposeUpdateOptions{TransactionHash: testTx})},
		{"script: malformed compose hash", "opts.ComposeHash", pls("my-app", "x", &phala.ComposeUpdateOptions{ComposeHash: testHash[:63], TransactionHash: testTx})},
		{"script: only the tx hash", "opts.ComposeHash/TransactionHash", pls("my-app", "x", &phala.ComposeUpdateOptions{TransactionHash: testTx})},
		{"envs: only the compose hash", "req.ComposeHash/TransactionHash", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, ComposeHash: phala.String(testHash)})},
		{"envs: malformed tx hash", "req.TransactionHash", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, ComposeHash: phala.String(testHash), TransactionHash: phala.String("0x12")})},
		{"patch: only the tx hash", "req.ComposeHash/TransactionHash", patch("my-app", &phala.PatchCVMRequest{VCPU: phala.Int(2), TransactionHash: phala.String(testTx)})},
		{"patch: malformed compose hash", "req.ComposeHash", patch("my-app", &phala.PatchCVMRequest{VCPU: phala.Int(2), ComposeHash: phala.String("nothex"), TransactionHash: phala.String(testTx)})},
		{"confirm: doc placeholder hash", "req.TransactionHash", confirm("my-app", &phala.ConfirmCVMPatchRequest{ComposeHash: testHash, TransactionHash: "0xabc123..."})},
		{"confirm: empty compose hash", "req.ComposeHash", confirm("my-app", &phala.ConfirmCVMPatchRequest{TransactionHash: testTx})},
		{"confirm: tx hash without 0x", "req.TransactionHash", confirm("my-app", &phala.ConfirmCVMPatchRequest{ComposeHash: testHash, TransactionHash: testTx[2:]})},
		{"commit: empty hash", "req.ComposeHash", commit("my-app", &phala.CommitComposeUpdateRequest{})},
		{"commit: malformed hash", "req.ComposeHash", commit("my-app", &phala.CommitComposeUpdateRequest{ComposeHash: "0xabc123..."})},

		// resources
		{"resources: empty request", "req", res("my-app", &phala.UpdateResourcesRequest{})},
		{"resources: only allow_restart", "req", res("my-app", &phala.UpdateResourcesRequest{AllowRestart: phala.Bool(true)})},
		{"resources: zero vcpu", "req.VCPU", res("my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(0)})},
		{"resources: negative memory", "req.Memory", res("my-app", &phala.UpdateResourcesRequest{Memory: phala.Int(-1)})},
		{"resources: zero disk", "req.DiskSize", res("my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(2), DiskSize: phala.Int(0)})},
		{"resources: empty instance type", "req.InstanceType", res("my-app", &phala.UpdateResourcesRequest{InstanceType: phala.String("")})},
		{"patch: zero vcpu", "req.VCPU", patch("my-app", &phala.PatchCVMRequest{VCPU: phala.Int(0)})},
		{"patch: negative memory", "req.Memory", patch("my-app", &phala.PatchCVMRequest{Memory: phala.Int(-5)})},
		{"patch: zero disk", "req.DiskSize", patch("my-app", &phala.PatchCVMRequest{DiskSize: phala.Int(0)})},
		{"patch: shutdown timeout too short", "req.ShutdownTimeout", patch("my-app", &phala.PatchCVMRequest{ShutdownTimeout: phala.Int(9)})},
		{"patch: shutdown timeout too long", "req.ShutdownTimeout", patch("my-app", &phala.PatchCVMRequest{ShutdownTimeout: phala.Int(1201)})},

		// 200 KiB limit on compose + pre-launch script together
		{"patch: compose plus script over 200 KiB", "req.DockerComposeFile", patch("my-app", &phala.PatchCVMRequest{DockerComposeFile: &big, PreLaunchScript: &half})},
		{"patch: script alone over 200 KiB", "req.DockerComposeFile", patch("my-app", &phala.PatchCVMRequest{PreLaunchScript: &overLimit})},
		{"provision: compose plus script over 200 KiB", "req.DockerComposeFile", prov("my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: big, PreLaunchScript: &half})},

		// env keys
		{"envs: key starting with a digit", "req.EnvKeys", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, EnvKeys: []string{"1BAD"}})},
		{"envs: key with a dash", "req.EnvKeys", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, EnvKeys: []string{"OK", "A-B"}})},
		{"envs: empty key", "req.EnvKeys", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, EnvKeys: []string{""}})},
		{"envs: duplicate key", "req.EnvKeys", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, EnvKeys: []string{"A", "A"}})},
		{"envs: key with =", "req.EnvKeys", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, EnvKeys: []string{"A=B"}})},
		{"patch: bad allowed env", "req.AllowedEnvs", patch("my-app", &phala.PatchCVMRequest{AllowedEnvs: []string{"has space"}})},
		{"provision: bad allowed env", "req.AllowedEnvs", prov("my-app", &phala.ProvisionComposeUpdateRequest{AllowedEnvs: []string{"ü"}})},
		{"commit: bad env key", "req.EnvKeys", commit("my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash, EnvKeys: []string{"a.b"}})},

		// issue 12 §5: NUL bytes and invalid UTF-8, which encoding/json
		// would silently turn into U+FFFD (another compose hash)
		{"compose: NUL", "compose", dc("my-app", "services:\x00\n", nil)},
		{"compose: invalid UTF-8", "compose", dc("my-app", "services: \xff\n", nil)},
		{"script: NUL", "script", pls("my-app", "echo \x00", nil)},
		{"script: invalid UTF-8", "script", pls("my-app", "echo \xc3", nil)},
		{"resources: instance type NUL", "req.InstanceType", res("my-app", &phala.UpdateResourcesRequest{InstanceType: phala.String("tdx.\x00")})},
		{"resources: instance type invalid UTF-8", "req.InstanceType", res("my-app", &phala.UpdateResourcesRequest{InstanceType: phala.String("tdx.\xfe")})},
		{"os image: NUL", "req.OSImageName", osi("my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack\x00"})},
		{"os image: invalid UTF-8", "req.OSImageName", osi("my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-\x80"})},
		{"patch: compose NUL", "req.DockerComposeFile", patch("my-app", &phala.PatchCVMRequest{DockerComposeFile: phala.String("a: \x00")})},
		{"patch: script invalid UTF-8", "req.PreLaunchScript", patch("my-app", &phala.PatchCVMRequest{PreLaunchScript: phala.String("echo \xff")})},
		{"patch: instance type NUL", "req.InstanceType", patch("my-app", &phala.PatchCVMRequest{InstanceType: phala.String("\x00")})},
		{"patch: OS image invalid UTF-8", "req.OSImageName", patch("my-app", &phala.PatchCVMRequest{OSImageName: phala.String("\xff")})},
		{"provision: compose invalid UTF-8", "req.DockerComposeFile", prov("my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: "a: \xff"})},
		{"provision: script NUL", "req.PreLaunchScript", prov("my-app", &phala.ProvisionComposeUpdateRequest{PreLaunchScript: phala.String("\x00")})},

		// blank scripts and composes
		{"script: white space", "script", pls("my-app", " \n\t", nil)},
		{"patch: blank compose", "req.DockerComposeFile", patch("my-app", &phala.PatchCVMRequest{DockerComposeFile: phala.String("\n ")})},
		{"patch: blank script", "req.PreLaunchScript", patch("my-app", &phala.PatchCVMRequest{PreLaunchScript: phala.String("  ")})},
		{"patch: blank instance type", "req.InstanceType", patch("my-app", &phala.PatchCVMRequest{InstanceType: phala.String(" ")})},
		{"provision: blank compose", "req.DockerComposeFile", prov("my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: " \n"})},
		{"provision: blank script", "req.PreLaunchScript", prov("my-app", &phala.ProvisionComposeUpdateRequest{PreLaunchScript: phala.String("\t")})},
		{"resources: blank instance type", "req.InstanceType", res("my-app", &phala.UpdateResourcesRequest{InstanceType: phala.String("  ")})},

		// phase-2 pointers set to ""
		{"patch: empty compose hash", "req.ComposeHash", patch("my-app", &phala.PatchCVMRequest{VCPU: phala.Int(2), ComposeHash: phala.String("")})},
		{"patch: empty tx hash", "req.TransactionHash", patch("my-app", &phala.PatchCVMRequest{VCPU: phala.Int(2), TransactionHash: phala.String("")})},
		{"envs: empty compose hash", "req.ComposeHash", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, ComposeHash: phala.String("")})},
		{"envs: empty tx hash", "req.TransactionHash", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, TransactionHash: phala.String("")})},

		// an EncryptedEnv shorter than key + IV + tag
		{"envs: shorter than a ciphertext", "req.EncryptedEnv", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: strings.Repeat("ab", phala.MinEncryptedEnvBytes-1)})},
		{"patch: shorter than a ciphertext", "req.EncryptedEnv", patch("my-app", &phala.PatchCVMRequest{EncryptedEnv: phala.String("abcd")})},
		{"commit: shorter than a ciphertext", "req.EncryptedEnv", commit("my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash, EncryptedEnv: strings.Repeat("0", 64)})},

		// env keys over 255 bytes (valid alphabet otherwise)
		{"envs: key over 255 bytes", "req.EnvKeys", envs("my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex, EnvKeys: []string{strings.Repeat("K", 256)}})},
		{"patch: allowed env over 255 bytes", "req.AllowedEnvs", patch("my-app", &phala.PatchCVMRequest{AllowedEnvs: []string{strings.Repeat("K", 256)}})},
		{"provision: allowed env over 255 bytes", "req.AllowedEnvs", prov("my-app", &phala.ProvisionComposeUpdateRequest{AllowedEnvs: []string{strings.Repeat("_", 300)}})},
		{"commit: env key over 255 bytes", "req.EnvKeys", commit("my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash, EnvKeys: []string{strings.Repeat("a", 256)}})},

		// integers the API's JSON numbers cannot hold exactly
		{"resources: vcpu above 2^53", "req.VCPU", res("my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(1<<53 + 1)})},
		{"resources: memory above 2^53", "req.Memory", res("my-app", &phala.UpdateResourcesRequest{Memory: phala.Int(1 << 60)})},
		{"patch: disk above 2^53", "req.DiskSize", patch("my-app", &phala.PatchCVMRequest{DiskSize: phala.Int(1<<53 + 1)})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			err := c.call(h.client())
			require.Error(t, err)
			assert.ErrorIs(t, err, phala.ErrInvalidArgument)
			var ia *phala.InvalidArgumentError
			require.ErrorAs(t, err, &ia)
			assert.Equal(t, c.field, ia.Field)
			assert.NotEmpty(t, ia.Reason)
			assert.Contains(t, err.Error(), c.field)
			var apiErr *phala.APIError
			assert.False(t, errors.As(err, &apiErr), "refused input is not an API error")
			assert.Equal(t, 0, h.count(), "nothing may be sent")
		})
	}
}

// The refused value may be a secret: it never appears in the error.
func TestInvalidArgumentDoesNotEchoTheValue(t *testing.T) {
	h := newHarness(t)
	secretEnv := "SECRET-not-hex-value"
	_, err := audited(h.client().UpdateCVMEnvs(context.Background(), "my-app", &phala.UpdateEnvsRequest{EncryptedEnv: secretEnv}))
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
	assert.NotContains(t, err.Error(), secretEnv)
}

// Just inside the limits is accepted, so that the limits above are the
// real boundaries.
func TestInputLimitsBoundaries(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.reply("PATCH /cvms/{id}", http.StatusAccepted, acceptedJSON)
	h.reply("PATCH /cvms/{id}/resources", http.StatusAccepted, acceptedJSON)
	compose := strings.Repeat("a", phala.MaxComposeSize-10)
	script := strings.Repeat("b", 10)
	c := h.client()
	_, err := audited(c.PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{DockerComposeFile: &compose, PreLaunchScript: &script,
		ShutdownTimeout: phala.Int(10), AllowedEnvs: []string{"_A1", "b"}}))
	require.NoError(t, err)
	_, err = audited(c.PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{ShutdownTimeout: phala.Int(1200)}))
	require.NoError(t, err)
	require.NoError(t, auditedErr(c.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(1), InstanceType: phala.String("tdx.small")})))
	require.Equal(t, 3, h.count())
}

// A nil context used to panic in every method; it is refused as the "ctx"
// argument, before anything is sent (issue 12 §5).
func TestNilContextIsRefused(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	var ctx context.Context // nil: what is tested
	envs := []phala.EnvVar{{Key: "A", Value: "b"}}
	calls := []struct {
		name string
		call func() error
	}{
		{"UpdateDockerCompose", func() error { _, err := audited(c.UpdateDockerCompose(ctx, "my-app", testCompose, nil)); return err }},
		{"UpdatePreLaunchScript", func() error { _, err := audited(c.UpdatePreLaunchScript(ctx, "my-app", "echo", nil)); return err }},
		{"UpdateCVMResources", func() error {
			return auditedErr(c.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(1)}))
		}},
		{"UpdateCVMVisibility", func() error {
			_, err := audited(c.UpdateCVMVisibility(ctx, "my-app", &phala.UpdateVisibilityRequest{PublicLogs: phala.Bool(true)}))
			return err
		}},
		{"UpdateCVMEnvs", func() error {
			_, err := audited(c.UpdateCVMEnvs(ctx, "my-app", &phala.UpdateEnvsRequest{EncryptedEnv: encHex}))
			return err
		}},
		{"UpdateOSImage", func() error {
			return auditedErr(c.UpdateOSImage(ctx, "my-app", &phala.UpdateOSImageRequest{OSImageName: "dstack-0.5.4"}))
		}},
		{"PatchCVM", func() error {
			_, err := audited(c.PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{VCPU: phala.Int(1)}))
			return err
		}},
		{"ConfirmCVMPatch", func() error {
			_, err := audited(c.ConfirmCVMPatch(ctx, "my-app", &phala.ConfirmCVMPatchRequest{ComposeHash: testHash, TransactionHash: testTx}))
			return err
		}},
		{"ProvisionCVMComposeFileUpdate", func() error {
			_, err := audited(c.ProvisionCVMComposeFileUpdate(ctx, "my-app", &phala.ProvisionComposeUpdateRequest{DockerComposeFile: testCompose}))
			return err
		}},
		{"CommitCVMComposeFileUpdate", func() error {
			return auditedErr(c.CommitCVMComposeFileUpdate(ctx, "my-app", &phala.CommitComposeUpdateRequest{ComposeHash: testHash}))
		}},
		{"GetCVMInfo", func() error { _, err := audited(c.GetCVMInfo(ctx, "my-app")); return err }},
		{"GetCVMState", func() error { _, err := audited(c.GetCVMState(ctx, "my-app")); return err }},
		{"GetCVMComposeFile", func() error { _, err := audited(c.GetCVMComposeFile(ctx, "my-app")); return err }},
		{"WaitForCVM", func() error { _, err := audited(c.WaitForCVM(ctx, "my-app", nil)); return err }},
		{"WaitForUpdate", func() error {
			_, err := audited(c.WaitForUpdate(ctx, "my-app", &phala.UpdateResult{CorrelationID: testCorrID}, nil))
			return err
		}},
		{"GetEnvEncryptPublicKey", func() error { _, err := audited(c.GetEnvEncryptPublicKey(ctx, "my-app", nil)); return err }},
		{"EncryptAndUpdateEnvs", func() error {
			_, err := audited(c.EncryptAndUpdateEnvs(ctx, "my-app", secretEnvs(envs), nil))
			return err
		}},
		{"CommitCVMUpdate", func() error {
			_, err := audited(c.CommitCVMUpdate(ctx, "my-app", secretToken("token"), testHash, testTx))
			return err
		}},
		{"GetCVMAttestation", func() error { _, err := audited(c.GetCVMAttestation(ctx, "my-app")); return err }},
		{"UpdateCVMListed", func() error { return auditedErr(c.UpdateCVMListed(ctx, "my-app", true)) }},
		{"GetPreLaunchScriptUpgradeStatus", func() error { _, err := audited(c.GetPreLaunchScriptUpgradeStatus(ctx, "my-app")); return err }},
		{"UpgradePreLaunchScript", func() error { _, err := audited(c.UpgradePreLaunchScript(ctx, "my-app", nil)); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.call() })
			var ia *phala.InvalidArgumentError
			require.ErrorAs(t, err, &ia)
			assert.Equal(t, "ctx", ia.Field)
		})
	}
	assert.Equal(t, 0, h.count(), "nothing may be sent")
}

// Several bad fields: the one named is the first in the request type's
// order, on every run (it used to depend on map iteration).
func TestFirstBadFieldIsDeterministic(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		err := auditedErr(c.UpdateCVMResources(ctx, "my-app", &phala.UpdateResourcesRequest{VCPU: phala.Int(0), Memory: phala.Int(-1), DiskSize: phala.Int(0)}))
		var ia *phala.InvalidArgumentError
		require.ErrorAs(t, err, &ia)
		require.Equal(t, "req.VCPU", ia.Field)
		_, err = audited(c.PatchCVM(ctx, "my-app", &phala.PatchCVMRequest{Memory: phala.Int(0), DiskSize: phala.Int(-2)}))
		require.ErrorAs(t, err, &ia)
		require.Equal(t, "req.Memory", ia.Field)
	}
	assert.Equal(t, 0, h.count())
}
