package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var reqSink *http.Request

// BenchmarkSenderParts prices, one by one, what phala's sender does per
// attempt beyond a hand-written call (phala/client.go once/prepare and
// phala/transport.go read as of this branch), so that BENCHMARKS.md can
// say what is left there: each sub-benchmark is one such step, alone.
func BenchmarkSenderParts(b *testing.B) {
	bg := context.Background()
	b.Run("WithTimeout+cancel", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(bg, time.Minute)
			_ = ctx.Done() // the transport asks for the channel
			cancel()
		}
	})
	b.Run("WithTimeout+cancel/noDone", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, cancel := context.WithTimeout(bg, time.Minute)
			cancel()
		}
	})
	b.Run("cancelOnClose-wrapper", func(b *testing.B) {
		b.ReportAllocs()
		var sink io.ReadCloser
		body := io.NopCloser(strings.NewReader(""))
		for b.Loop() {
			sink = &struct {
				io.ReadCloser
				cancel context.CancelFunc
			}{body, func() {}}
		}
		_ = sink
	})
	b.Run("httptrace.WithClientTrace", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got atomic.Bool
			ctx := httptrace.WithClientTrace(bg, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { got.Store(true) }})
			_ = httptrace.ContextClientTrace(ctx)
		}
	})
	h := http.Header{"X-Request-Id": {"req-1"}, "Content-Type": {"application/json"}}
	b.Run("Header.Get/non-canonical", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Get("X-Request-ID")
		}
	})
	b.Run("Header.Get/canonical", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Get("X-Request-Id")
		}
	})
	b.Run("Request.WithContext", func(b *testing.B) {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/api/v1/cvms/my-app", nil)
		type key struct{}
		ctx := context.WithValue(bg, key{}, 1)
		b.ReportAllocs()
		for b.Loop() {
			reqSink = req.WithContext(ctx)
		}
	})
	body := []byte(accepted)
	b.Run("ReadAll(LimitReader)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = io.ReadAll(io.LimitReader(bytes.NewReader(body), 10<<20+1))
		}
	})
	b.Run("ReadFull(Content-Length)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf := make([]byte, len(body)+1) // +1: proves the end, as the limit check does
			n, _ := io.ReadFull(bytes.NewReader(body), buf)
			_ = buf[:n]
		}
	})
}
