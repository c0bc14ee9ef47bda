package phala_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/phalacloud/go-sdk/phala/phalatest"
)

const newCompose = "services:\n  app:\n    image: nginx:1.27\n"

// streams counts the state requests that asked for an event stream.
func streams(srv *phalatest.Server) (stream, plain int) {
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/state") {
			if strings.Contains(r.Query, "target=") {
				stream++
			} else {
				plain++
			}
		}
	}
	return stream, plain
}

func update(t *testing.T, c *phala.Client, cvm string) *phala.UpdateResult {
	t.Helper()
	res, err := c.UpdateDockerCompose(context.Background(), cvm, newCompose, nil)
	require.NoError(t, err)
	require.Equal(t, phala.StatusInProgress, res.Status)
	return res
}

func TestWaitForUpdateStreamsUntilDone(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(80*time.Millisecond))
	c := srv.Client()
	res := update(t, c, phalatest.CentralCVMName)
	var seen []string
	st, err := c.WaitForUpdate(context.Background(), phalatest.CentralCVMName, res, &phala.WaitOptions{
		OnEvent: func(s phala.CVMState) { seen = append(seen, s.Status) }})
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	assert.Equal(t, []string{"updating", "running"}, seen, "one event per change")
	info, err := c.GetCVMInfo(context.Background(), phalatest.CentralCVMName)
	require.NoError(t, err)
	assert.Nil(t, info.Progress, "the update has finished when the wait returns")
	stream, plain := streams(srv)
	assert.Equal(t, 1, stream)
	assert.Equal(t, 0, plain)
}

func TestWaitReconnectsAfterStreamTimeout(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(150*time.Millisecond), phalatest.WithMaxStreamDuration(30*time.Millisecond))
	c := srv.Client()
	res := update(t, c, phalatest.CentralCVMName)
	st, err := c.WaitForUpdate(context.Background(), phalatest.CentralCVMName, res, &phala.WaitOptions{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	stream, _ := streams(srv)
	assert.GreaterOrEqual(t, stream, 2, "the client reconnected after the server's timeout event")
}

func TestWaitReconnectsAfterStreamEndsEarly(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(100*time.Millisecond))
	srv.DropStreams(2)
	c := srv.Client()
	res := update(t, c, phalatest.CentralCVMName)
	st, err := c.WaitForUpdate(context.Background(), phalatest.CentralCVMName, res, &phala.WaitOptions{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	stream, _ := streams(srv)
	assert.Equal(t, 3, stream, "two cut streams, then one to completion")
}

func TestWaitFallsBackToPollingWithoutStreams(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(60*time.Millisecond), phalatest.WithoutStreaming())
	c := srv.Client()
	res := update(t, c, phalatest.CentralCVMName)
	st, err := c.WaitForUpdate(context.Background(), phalatest.CentralCVMName, res, &phala.WaitOptions{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, "running", st.Status)
	stream, plain := streams(srv)
	assert.Equal(t, 1, stream, "one stream attempt, answered with JSON")
	assert.GreaterOrEqual(t, plain, 1, "then polling")
}

func TestWaitReportsBootError(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(40*time.Millisecond))
	require.True(t, srv.FailNextBoot(phalatest.CentralCVMName, "pre-launch script exited with 1"))
	c := srv.Client()
	res := update(t, c, phalatest.CentralCVMName)
	_, err := c.WaitForUpdate(context.Background(), phalatest.CentralCVMName, res, nil)
	var be *phala.BootError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "pre-launch script exited with 1", be.Message)

	// Polling sees the boot error in the state too.
	require.True(t, srv.FailNextBoot(phalatest.CentralCVMName, "image pull failed"))
	res = update(t, c, phalatest.CentralCVMName)
	_, err = c.WaitForUpdate(context.Background(), phalatest.CentralCVMName, res, &phala.WaitOptions{DisableStreaming: true, PollInterval: 10 * time.Millisecond})
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "image pull failed", be.Message)
}

func TestWaitStopsWithTheContext(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(time.Hour))
	c := srv.Client()
	res := update(t, c, phalatest.CentralCVMName)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.WaitForUpdate(ctx, phalatest.CentralCVMName, res, nil)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestWaitWorksWithEveryIDForm(t *testing.T) {
	srv := phalatest.NewTestServer(t, phalatest.WithUpdateDelay(30*time.Millisecond))
	seed, ok := srv.CVM(phalatest.CentralCVMName)
	require.True(t, ok)
	c := srv.Client()
	ids := []string{seed.Name, seed.ID, "app_" + seed.AppID, seed.AppID, seed.VMUUID,
		strings.ReplaceAll(seed.VMUUID, "-", ""), "instance_" + seed.InstanceID}
	for _, id := range ids {
		res := update(t, c, id)
		st, err := c.WaitForUpdate(context.Background(), id, res, nil)
		require.NoError(t, err, id)
		assert.Equal(t, "running", st.Status, id)
	}
}
