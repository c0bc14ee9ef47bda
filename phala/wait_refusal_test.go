package phala

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 24 point 2: each result WaitForUpdate cannot wait on is refused
// with the fix for its own cause, before any request. The old text named
// the on-chain step for all of them, including a result the caller forgot
// to pass through WithUpdateResult.
func TestWaitForUpdateRefusalNamesTheFix(t *testing.T) {
	s := &stateServer{jsonState: `{"status":"running"}`}
	c := waitClient(t, s)
	cases := []struct {
		name      string
		result    Waitable
		want, not string
	}{
		{"never filled (WithUpdateResult forgotten)", &UpdateResult{}, "phala.WithUpdateResult(ctx, &res)", "on-chain"},
		{"nil", nil, "phala.WithUpdateResult(ctx, &res)", "on-chain"},
		{"typed nil", (*UpdateResult)(nil), "failed (check its error)", "on-chain"},
		{"typed nil patch", (*PatchCVMResponse)(nil), "PatchCVM call that returned it failed", "on-chain"},
		{"typed nil action", (*CVMActionResponse)(nil), "failed (check its error)", "on-chain"},
		{"on-chain phase 1", &UpdateResult{RequiresOnChainHash: true, ComposeHash: "ab"},
			"register ComposeHash", "WithUpdateResult"},
		{"patch phase 1", &PatchCVMResponse{RequiresOnChainHash: true},
			"ConfirmCVMPatch", "WithUpdateResult"},
		{"accepted, empty body", &UpdateResult{Status: StatusInProgress}, "WaitForCVM instead", "WithUpdateResult"},
		{"action without id", &CVMActionResponse{Status: "ok"}, "WaitForCVM instead", "on-chain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := audited(c.WaitForUpdate(context.Background(), "my-app", tc.result, nil))
			var ia *InvalidArgumentError
			require.ErrorAs(t, err, &ia)
			assert.Equal(t, "result", ia.Field)
			assert.True(t, errors.Is(err, ErrInvalidArgument))
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), tc.not)
		})
	}
	assert.Zero(t, s.polls.Load()+s.streamsUsed.Load()+s.detailCalls.Load(), "nothing was sent")
}

// Issue 24 point 7: a cancelled wait says which status it waited for (not
// one the CVM has), the last status seen and how long it waited. The old
// text, "waiting for CVM central-app (status "running")", read as if the
// CVM were running.
func TestWaitCancelledSaysWhatItWaitedFor(t *testing.T) {
	s := &stateServer{jsonState: `{"status":"starting"}`}
	ctx, cancel := context.WithCancel(context.Background())
	opts := &WaitOptions{PollInterval: 5 * time.Millisecond, DisableStreaming: true,
		OnEvent: func(CVMState) { cancel() }}
	_, err := audited(waitClient(t, s).WaitForCVM(ctx, "my-app", opts))
	require.ErrorIs(t, err, context.Canceled)
	msg := err.Error()
	assert.Contains(t, msg, `wait for CVM my-app to reach status "running" cancelled after `)
	assert.Contains(t, msg, `last status seen: "starting"`)
	assert.NotContains(t, msg, `(status "running")`)

	ctx, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	s = &stateServer{jsonState: `{"status":"starting"}`}
	_, err = audited(waitClient(t, s).WaitForUpdate(ctx, "my-app", &UpdateResult{Status: StatusInProgress, CorrelationID: "corr-9"},
		&WaitOptions{PollInterval: 5 * time.Millisecond, DisableStreaming: true}))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), `wait for update corr-9 of CVM my-app to finish with status "running" timed out (ctx deadline) after `)
}

func TestRoundElapsed(t *testing.T) {
	assert.Equal(t, 12*time.Millisecond, roundElapsed(12345678*time.Nanosecond))
	assert.Equal(t, 83200*time.Millisecond, roundElapsed(83217*time.Millisecond))
}
