package phalatest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

// TestMethodMatrixPerAPIVersion runs every method that reads the CVM detail,
// and one update of each kind, under each API version the SDK supports,
// against a fake that answers in that version's shape (2025-10-28: the
// legacy detail; later: CVMInfoDetail), as @phala/cloud 0.2.9 and the
// official Go SDK expect.
func TestMethodMatrixPerAPIVersion(t *testing.T) {
	for _, v := range phala.SupportedAPIVersions() {
		t.Run(v, func(t *testing.T) {
			s := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(0))
			c := s.Client(phala.WithoutRetries(), phala.WithAPIVersion(v))
			ctx := ctxT(t)
			central, oc := seeds(t, s)
			legacy := v == phala.APIVersion20251028

			// The fake answers in the shape of the version asked for.
			raw := do(t, s, http.MethodGet, "/cvms/"+central.ID, "", "", map[string]string{"X-Phala-Version": v})
			require.Equal(t, http.StatusOK, raw.status)
			if legacy {
				require.IsType(t, float64(0), raw.body["id"], "2025-10-28: integer id")
				require.Equal(t, float64(4096), raw.body["memory"], "2025-10-28: memory in MB")
			} else {
				require.Equal(t, central.ID, raw.body["id"])
				require.Contains(t, raw.body, "resource")
			}

			// GetCVMInfo, central and on-chain.
			info, err := c.GetCVMInfo(ctx, central.ID)
			require.NoError(t, err)
			assert.Equal(t, central.Name, info.Name)
			assert.Equal(t, central.AppID, info.AppID)
			assert.Equal(t, "running", info.Status)
			assert.Equal(t, 2, info.VCPU)
			assert.Equal(t, 4096, info.MemoryMB)
			assert.Equal(t, 4.0, info.MemoryGB)
			assert.Equal(t, 40, info.DiskGB)
			require.NotNil(t, info.KMSInfo)
			assert.False(t, info.KMSInfo.OnChain())
			assert.Len(t, info.KMSInfo.EncryptedEnvPublicKey, 64)
			if legacy {
				_, err := strconv.Atoi(info.ID)
				require.NoError(t, err, "the legacy id is the integer id")
				again, err := c.GetCVMInfo(ctx, info.ID)
				require.NoError(t, err, "the integer id names the CVM")
				assert.Equal(t, central.Name, again.Name)
			} else {
				assert.Equal(t, central.ID, info.ID)
			}
			ocInfo, err := c.GetCVMInfo(ctx, oc.ID)
			require.NoError(t, err)
			require.True(t, ocInfo.KMSInfo.OnChain())
			assert.Equal(t, int64(oc.ChainID), *ocInfo.KMSInfo.ChainID)
			assert.Equal(t, oc.KMSID, ocInfo.KMSInfo.ID)
			assert.Equal(t, "0x"+oc.AppID, ocInfo.KMSInfo.DstackAppAddress)

			// UpdateCVMVisibility with one flag reads the other from the detail.
			vis, err := c.UpdateCVMVisibility(ctx, central.ID, &phala.UpdateVisibilityRequest{PublicLogs: phala.Ptr(false)})
			require.NoError(t, err)
			assert.Equal(t, phala.CVMVisibility{PublicSysinfo: true, PublicLogs: false, PublicTcbinfo: false}, *vis)
			ac, _, _ := s.AppCompose(central.ID)
			assert.Equal(t, true, ac["public_sysinfo"], "the flag not given is kept")
			assert.Equal(t, false, ac["public_logs"])

			// GetEnvEncryptPublicKey and UpdateEnvs: central key from the detail,
			// on-chain key from the KMS the detail names, signature verified.
			key, err := c.GetEnvEncryptPublicKey(ctx, central.ID, nil)
			require.NoError(t, err)
			assert.Equal(t, info.KMSInfo.EncryptedEnvPublicKey, key.PublicKey)
			res, err := c.EncryptAndUpdateEnvs(ctx, central.ID, []phala.EnvVar{{Key: "FOO", Value: "v-" + v}}, nil)
			require.NoError(t, err)
			require.Equal(t, phala.StatusInProgress, res.Status)
			assert.Equal(t, map[string]string{"FOO": "v-" + v}, s.Envs(central.ID))
			ocKey, err := c.GetEnvEncryptPublicKey(ctx, oc.ID, &phala.EnvKeyOptions{ExpectedSigner: s.KMSSigner(), AppID: oc.AppID})
			require.NoError(t, err)
			assert.True(t, ocKey.OnChain)
			_, err = c.EncryptAndUpdateEnvs(ctx, oc.ID, []phala.EnvVar{{Key: "FOO", Value: "w"}}, &phala.UpdateEnvsOptions{Key: phala.EnvKeyOptions{ExpectedSigner: s.KMSSigner(), AppID: oc.AppID}})
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"FOO": "w"}, s.Envs(oc.ID))

			// An update and the wait for it, which reads the detail.
			upd, err := c.UpdateDockerCompose(ctx, central.ID, "services:\n  app:\n    image: nginx:"+v+"\n", nil)
			require.NoError(t, err)
			// WithUpdateDelay(0) finishes the update inside the PATCH, so the wait
			// can never see it under way: StartTimeout lets it accept that at once.
			st, err := c.WaitForUpdate(ctx, central.ID, upd, &phala.WaitOptions{PollInterval: 5 * time.Millisecond, StartTimeout: time.Nanosecond})
			require.NoError(t, err)
			assert.Equal(t, "running", st.Status)

			// Memory in MB on both sides: what UpdateCVMResources sends is what
			// GetCVMInfo reads back.
			require.NoError(t, c.UpdateCVMResources(ctx, central.ID, &phala.UpdateResourcesRequest{Memory: phala.Ptr(6144), AllowRestart: phala.Ptr(true)}))
			_, err = c.WaitForCVM(ctx, central.ID, &phala.WaitOptions{PollInterval: 5 * time.Millisecond})
			require.NoError(t, err)
			info, err = c.GetCVMInfo(ctx, central.ID)
			require.NoError(t, err)
			assert.Equal(t, 6144, info.MemoryMB)
			assert.Equal(t, 6.0, info.MemoryGB)
			assert.Empty(t, s.SpecViolations())
		})
	}
}

// TestUnsupportedVersionIsRefused: the fake's own client builder cannot be
// talked into a version the SDK does not decode.
func TestUnsupportedVersionIsRefused(t *testing.T) {
	s := phalatest.NewTestServer(t)
	require.Panics(t, func() { s.Client(phala.WithAPIVersion("2026-11-11")) })
}
