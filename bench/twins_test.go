package bench

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wireRequest is a request as the server received it.
type wireRequest struct {
	Method, RequestURI, Host, Proto string
	Header                          http.Header
	ContentLength                   int64
	TransferEncoding                []string
	Body                            string
}

// capture answers like the benchmark server and records every request.
type capture struct {
	mu   sync.Mutex
	reqs []wireRequest
}

func (c *capture) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.reqs = append(c.reqs, wireRequest{r.Method, r.RequestURI, r.Host, r.Proto, r.Header.Clone(), r.ContentLength,
		r.TransferEncoding, string(body)})
	c.mu.Unlock()
	answer(w, r)
}

func (c *capture) take() []wireRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.reqs
	c.reqs = nil
	return out
}

// Each benchmarked method and its hand-written twin (and the gen
// contender) send the same requests: same method, path and query, Host,
// every header and the body, byte for byte.
func TestTwinsSendSameBytes(t *testing.T) {
	cp := &capture{}
	s := newServer(t, cp.handle)
	base := s.URL + "/api/v1"
	facade := facadeCalls(t, base, newTransport())
	others := map[string]map[string]call{"nethttp": rawCalls(t, base, newTransport()), "gen": genCalls(t, base, newTransport())}
	for _, op := range ops {
		require.NoError(t, facade[op](context.Background()), op)
		want := cp.take()
		require.NotEmpty(t, want, op)
		if op == "UpdateCVMVisibility" {
			require.Len(t, want, 2, "a one-flag visibility change is a GET and a PATCH")
		}
		assert.Equal(t, "bench-key", want[0].Header.Get("X-API-Key"))
		for name, calls := range others {
			require.NoError(t, calls[op](context.Background()), op+" "+name)
			assert.Equal(t, want, cp.take(), op+": facade vs "+name)
		}
	}
}
