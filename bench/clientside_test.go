package bench

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// memTransport answers like the loopback server, in memory: no
// connection, no server goroutine, so what a benchmark through it measures
// is the client's own work alone (building, sending through net/http's
// Client, reading and decoding), for attributing costs that the loopback
// figures bury under the round trip. Being a RoundTripper of its own (not
// an *http.Transport), it makes the facade trace connections for changes
// (phala's sender does so for any caller's RoundTripper): three
// allocations more than over the loopback transport.
type memTransport struct{}

func (memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	body, status := accepted, http.StatusAccepted
	switch {
	case r.Method == http.MethodGet:
		body, status = detail, http.StatusOK
	case strings.HasSuffix(r.URL.Path, "/visibility"):
		body, status = vm, http.StatusOK
	}
	return &http.Response{StatusCode: status, Status: strconv.Itoa(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, ContentLength: int64(len(body)),
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// BenchmarkClientSide: each contender's per-call cost over memTransport,
// sequentially (ns/op, B/op, allocs/op of the client alone).
func BenchmarkClientSide(b *testing.B) {
	for _, op := range ops {
		for _, c := range contenders {
			b.Run(op+"/"+c.name, func(b *testing.B) {
				fn := c.calls(b, "http://127.0.0.1:1/api/v1", memTransport{})[op]
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := fn(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
