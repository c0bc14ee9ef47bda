package phalatest

import (
	"net/http"
	"strings"
	"time"

	"github.com/phalacloud/go-sdk/phala"
)

// FaultKind is what an injected fault does.
type FaultKind int

const (
	// FaultLatency delays the answer by Fault.Latency and answers normally.
	FaultLatency FaultKind = iota + 1
	// FaultRateLimit answers 429 with Retry-After (Fault.RetryAfter, default 1s).
	FaultRateLimit
	// FaultUnavailable answers 503 with Retry-After when Fault.RetryAfter is set.
	FaultUnavailable
	// FaultInternal answers 500.
	FaultInternal
	// FaultDrop closes the connection without an answer.
	FaultDrop
)

// String is the kind's name as RecordedRequest.Fault shows it.
func (k FaultKind) String() string {
	switch k {
	case FaultLatency:
		return "latency"
	case FaultRateLimit:
		return "rate_limit"
	case FaultUnavailable:
		return "unavailable"
	case FaultInternal:
		return "internal"
	case FaultDrop:
		return "drop"
	}
	return "unknown"
}

// Fault describes failures to inject. A fault hits the next Count matching
// requests; with Fraction set it hits each matching request with that
// probability (the server's seeded generator decides, see WithSeed), up
// to Count times when Count > 0. Faults are tried in the order they were
// injected; the first that hits wins.
//
// By default a fault strikes before the request reaches the operation, so
// nothing is applied (RecordedRequest.Applied is false). With AfterApply
// the operation runs first (a mutating request IS applied) and then the
// answer is replaced by the fault: the connection is dropped, or a
// 500/503/429 is answered instead of the real result. Retry tests use
// the two to check that a retried update is not applied twice.
type Fault struct {
	// Kind is what happens.
	Kind FaultKind
	// Count is how many requests the fault hits (0 with Fraction: no limit;
	// 0 without Fraction: 1).
	Count int
	// Fraction, between 0 and 1, makes the fault probabilistic.
	Fraction float64
	// Latency delays the answer (any kind; the only effect of FaultLatency).
	Latency time.Duration
	// RetryAfter is sent as Retry-After (seconds, rounded up) with 429/503.
	RetryAfter time.Duration
	// AfterApply strikes after the operation ran (see above).
	AfterApply bool
	// Method, if set, limits the fault to this HTTP method.
	Method string
	// PathSuffix, if set, limits the fault to paths ending with it, e.g.
	// "/docker-compose".
	PathSuffix string
}

type faultState struct {
	Fault
	left int // -1: unlimited
}

// InjectFaults adds faults; see Fault for their semantics.
func (s *Server) InjectFaults(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		left := f.Count
		if left == 0 {
			left = 1
			if f.Fraction > 0 {
				left = -1
			}
		}
		s.faults = append(s.faults, &faultState{Fault: f, left: left})
	}
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// pickFault decides, once per request, which fault (if any) hits it.
func (s *Server) pickFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.PathSuffix != "" && !strings.HasSuffix(r.URL.Path, f.PathSuffix) {
			continue
		}
		if f.Fraction > 0 && s.rng.Float64() >= f.Fraction {
			continue
		}
		if f.left > 0 {
			f.left--
		}
		if f.left == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		out := f.Fault
		return &out
	}
	return nil
}

// answerFault writes the fault's answer (or drops the connection) and
// records the request.
func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, f *Fault, reqID string, rec *RecordedRequest) {
	var resp response
	switch f.Kind {
	case FaultDrop:
		rec.Status = 0
		s.record(*rec)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2: reset the stream
	case FaultRateLimit:
		resp = errorResponse(http.StatusTooManyRequests, phala.CodeRateLimitExceeded, "Rate limit exceeded", reqID, nil, nil)
		ra := f.RetryAfter
		if ra <= 0 {
			ra = time.Second
		}
		resp.header.Set("Retry-After", retryAfterSeconds(ra))
	case FaultUnavailable:
		resp = jsonResponse(http.StatusServiceUnavailable, map[string]any{"detail": "Service temporarily unavailable"})
		if f.RetryAfter > 0 {
			resp.header.Set("Retry-After", retryAfterSeconds(f.RetryAfter))
		}
	default:
		resp = jsonResponse(http.StatusInternalServerError, map[string]any{"detail": "Internal server error"})
	}
	resp.header.Set("X-Request-ID", reqID)
	rec.Status = resp.status
	s.record(*rec)
	writeResponse(w, resp)
}
