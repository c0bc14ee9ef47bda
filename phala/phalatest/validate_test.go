package phalatest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// Issue 24 point 5: the fake refuses what the cloud refuses, with the
// cloud's status and ERR- code, and applies nothing. The old fake accepted
// every case below (memory 8 became 8 MB; a broken compose restarted the
// CVM).
func TestFakeRefusesWhatTheCloudRefuses(t *testing.T) {
	s := phalatest.NewTestServer(t)
	c := noRetry(s)
	ctx := ctxT(t)
	resources := func(r phala.UpdateResourcesRequest) func() error {
		return func() error { return c.UpdateCVMResources(ctx, phalatest.CentralCVMName, &r) }
	}
	compose := func(y string) func() error {
		return func() error { _, err := c.UpdateDockerCompose(ctx, phalatest.CentralCVMName, y, nil); return err }
	}
	patch := func(r phala.PatchCVMRequest) func() error {
		return func() error { _, err := c.PatchCVM(ctx, phalatest.CentralCVMName, &r); return err }
	}
	cases := []struct {
		name string
		call func() error
		code phala.ErrorCode
		msg  string
	}{
		{"memory in GB", resources(phala.UpdateResourcesRequest{Memory: phala.Int(8)}), phala.CodeInvalidResourceRequest, "memory is in MB"},
		{"memory too large", resources(phala.UpdateResourcesRequest{Memory: phala.Int(phalatest.MaxMemoryMB + 1)}), phala.CodeInvalidResourceRequest, "memory is in MB"},
		{"disk in MB", resources(phala.UpdateResourcesRequest{DiskSize: phala.Int(40960)}), phala.CodeInvalidResourceRequest, "disk_size is in GB"},
		{"disk too small", resources(phala.UpdateResourcesRequest{DiskSize: phala.Int(phalatest.MinDiskGB - 1)}), phala.CodeInvalidResourceRequest, "disk_size is in GB"},
		{"too many vCPUs", resources(phala.UpdateResourcesRequest{VCPU: phala.Int(phalatest.MaxVCPU + 1)}), phala.CodeInvalidResourceRequest, "vcpu must be"},
		{"compose not YAML", compose("this: [is not: valid"), phala.CodeInvalidCompose, "not valid YAML"},
		{"compose without services", compose("version: '3'\nvolumes: {}\n"), phala.CodeInvalidCompose, "no services"},
		{"compose services a list", compose("services:\n  - web\n"), phala.CodeInvalidCompose, "not a mapping"},
		{"compose with no service", compose("services: {}\n"), phala.CodeInvalidCompose, "defines no service"},
		{"compose a scalar", compose("just text\n"), phala.CodeInvalidCompose, "not valid YAML"},
		{"patch memory in GB", patch(phala.PatchCVMRequest{Memory: phala.Int(16)}), phala.CodeInvalidResourceRequest, "memory is in MB"},
		{"patch broken compose", patch(phala.PatchCVMRequest{DockerComposeFile: phala.String("services: [")}), phala.CodeInvalidCompose, "not valid YAML"},
		{"provision broken compose", func() error {
			_, err := c.ProvisionCVMComposeFileUpdate(ctx, phalatest.CentralCVMName,
				&phala.ProvisionComposeUpdateRequest{DockerComposeFile: "image: nginx\n"})
			return err
		}, phala.CodeInvalidCompose, "no services"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ae := apiError(t, tc.call(), http.StatusBadRequest)
			assert.Equal(t, tc.code, ae.Code)
			assert.Contains(t, ae.Message, tc.msg)
		})
	}
	for _, q := range s.Requests() {
		require.False(t, q.Applied, "%s %s: a refused request must change nothing", q.Method, q.Path)
	}
	// The refused memory names the field and the value, as the cloud's details do.
	ae := apiError(t, resources(phala.UpdateResourcesRequest{Memory: phala.Int(8)})(), http.StatusBadRequest)
	require.Len(t, ae.Details, 1)
	assert.Equal(t, "memory", ae.Details[0].Field)
	assert.JSONEq(t, "8", string(ae.Details[0].Value))
}

// The bounds themselves are accepted: the checks refuse only what is out of
// range.
func TestFakeAcceptsResourcesAtTheBounds(t *testing.T) {
	for _, r := range []phala.UpdateResourcesRequest{
		{VCPU: phala.Int(phalatest.MinVCPU), Memory: phala.Int(phalatest.MinMemoryMB), DiskSize: phala.Int(phalatest.MinDiskGB)},
		{VCPU: phala.Int(phalatest.MaxVCPU), Memory: phala.Int(phalatest.MaxMemoryMB), DiskSize: phala.Int(phalatest.MaxDiskGB)},
	} {
		s := phalatest.NewTestServer(t)
		require.NoError(t, noRetry(s).UpdateCVMResources(ctxT(t), phalatest.CentralCVMName, &r))
		q := s.Requests()
		require.True(t, q[len(q)-1].Applied, "%+v", r)
	}
}

// WithCVM seeds obey the same rules: a seed the cloud could not hold is a
// panic at NewServer naming the field, not a CVM reporting 8 MB.
func TestSeedsObeyTheCloudsRules(t *testing.T) {
	cases := []struct {
		seed phalatest.CVMSeed
		want string
	}{
		{phalatest.CVMSeed{Name: "small-app", MemoryMB: 8}, "MemoryMB 8 refused: memory is in MB"},
		{phalatest.CVMSeed{Name: "small-app", DiskGB: 40960}, "DiskGB 40960 refused: disk_size is in GB"},
		{phalatest.CVMSeed{Name: "small-app", VCPU: -1}, "VCPU -1 refused"},
		{phalatest.CVMSeed{Name: "small-app", DockerComposeFile: "this: [is not: valid"}, "DockerComposeFile: the Docker Compose file is not valid YAML"},
		{phalatest.CVMSeed{Name: "small-app", DockerComposeFile: "image: nginx\n"}, "DockerComposeFile: the Docker Compose file has no services"},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				err, _ := recover().(error)
				require.Error(t, err, "%+v: no panic", tc.seed)
				assert.Contains(t, err.Error(), "phalatest: CVM small-app: "+tc.want)
			}()
			phalatest.NewServer(phalatest.WithCVM(tc.seed)).Close()
		}()
	}
}
