package phalatest_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/nodejs"
	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// detailPerVersionScript reads both seeded CVMs with @phala/cloud's
// getCvmInfo under each version it supports; the SDK parses each answer
// with the zod schema of that version (CvmDetailV20251028Schema or
// CvmInfoDetailV20260121Schema) and throws when the shape is wrong.
const detailPerVersionScript = `
const cloud = require("@phala/cloud");
const cfg = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => {
  const out = {};
  for (const v of cloud.SUPPORTED_API_VERSIONS) {
    const client = cloud.createClient({ apiKey: cfg.api_key, baseURL: cfg.prefix }).withVersion(v);
    out[v] = {};
    for (const id of cfg.ids) {
      const info = await cloud.getCvmInfo(client, { id });
      out[v][id] = v === "2025-10-28"
        ? { id: info.id, memory_mb: info.memory, vcpu: info.vcpu, disk_gb: info.disk_size }
        : { id: info.id, memory_mb: info.resource.memory_in_gb * 1024, vcpu: info.resource.vcpu, disk_gb: info.resource.disk_in_gb };
    }
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e && e.issues ? JSON.stringify(e.issues) : e); process.exit(1); });
`

// TestJSSDKReadsTheDetailOfEachVersion: the fake's per-version detail is
// what @phala/cloud 0.2.9 accepts for that version, and the Go client reads
// the same id and resources from it.
func TestJSSDKReadsTheDetailOfEachVersion(t *testing.T) {
	dir := nodejs.Install(t)
	s := phalatest.NewTestServer(t)
	ids := []string{phalatest.CentralCVMName, phalatest.OnChainCVMName}
	cfg, err := json.Marshal(map[string]any{"prefix": s.URL(), "api_key": s.APIKey(), "ids": ids})
	require.NoError(t, err)
	var js map[string]map[string]struct {
		ID       any `json:"id"`
		MemoryMB int `json:"memory_mb"`
		VCPU     int `json:"vcpu"`
		DiskGB   int `json:"disk_gb"`
	}
	require.NoError(t, json.Unmarshal(nodejs.Run(t, dir, detailPerVersionScript, cfg), &js))
	require.Contains(t, js, phala.APIVersion20251028)
	require.Contains(t, js, phala.APIVersion20260121)
	for v, perID := range js {
		c := s.Client(phala.WithAPIVersion(v))
		for _, id := range ids {
			got, ok := perID[id]
			require.True(t, ok, "%s %s", v, id)
			info, err := c.GetCVMInfo(ctxT(t), id)
			require.NoError(t, err, "%s %s", v, id)
			if v == phala.APIVersion20251028 {
				assert.IsType(t, float64(0), got.ID, "%s: integer id", v)
				assert.Equal(t, got.ID, float64(mustAtoi(t, info.ID)), v)
			} else {
				assert.Equal(t, got.ID, info.ID, v)
			}
			assert.Equal(t, got.MemoryMB, info.MemoryMB, "%s %s", v, id)
			assert.Equal(t, got.VCPU, info.VCPU, "%s %s", v, id)
			assert.Equal(t, got.DiskGB, info.DiskGB, "%s %s", v, id)
		}
	}
	assert.Empty(t, s.SpecViolations())
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "id %q", s)
	return n
}
