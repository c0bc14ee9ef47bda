package phala

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultTransportReusesConnections: a client built without
// WithHTTPClient keeps enough idle connections that rounds of 16
// concurrent calls reuse them instead of dialing again (net/http's default
// transport keeps 2 per host and would redial most of them).
func TestDefaultTransportReusesConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, accepted)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := auditedClient(NewClient(WithAPIKey("k-secret"), WithBaseURL(srv.URL+"/api/v1")))
	require.NoError(t, err)
	const inflight, rounds = 16, 5
	for range rounds {
		var wg sync.WaitGroup
		for range inflight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := audited(c.UpdateDockerCompose(context.Background(), "my-app", "a: b\n", nil))
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
	}
	// A connection returns to the idle pool from the transport's read loop,
	// which can lag the next round by a moment, so a few extra dials are
	// allowed; net/http's default transport (2 idle per host) dials ~70.
	assert.LessOrEqual(t, conns.Load(), int64(2*inflight), "%d connections for %d calls", conns.Load(), inflight*rounds)
}
