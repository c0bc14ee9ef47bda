package phalatest

import (
	"net/http"
	"time"
)

// RecordedRequest is one request the server received, as tests see it.
type RecordedRequest struct {
	// Time is the server clock's time of arrival.
	Time   time.Time
	Method string
	// Path is the URL path (decoded), e.g. /api/v1/cvms/app-1/envs.
	Path  string
	Query string
	// Header holds the request headers except X-API-Key.
	Header http.Header
	Body   []byte
	// Status is the status answered; 0 when the connection was dropped.
	Status int
	// Operation is the OpenAPI operationId, empty for unknown paths.
	Operation string
	// CVMID is the hashed id of the CVM the request named, when found.
	CVMID string
	// Applied reports that the request changed the CVM's state.
	Applied bool
	// Fault names the injected fault that hit the request, if any.
	Fault string
	// RequestID is the X-Request-ID the server gave it.
	RequestID string
}

// AppliedChange is one change the server applied to a CVM.
type AppliedChange struct {
	// Operation is the operationId that applied it (for a confirmation,
	// the operation of the confirming request).
	Operation string
	// CorrelationID is the update's correlation id.
	CorrelationID string
	// ComposeHash is the compose hash after the change.
	ComposeHash string
	// RequestID is the request that applied it.
	RequestID string
	// Fields lists what changed, e.g. ["docker_compose_file"].
	Fields []string
	Time   time.Time
}

func redactHeader(h http.Header) http.Header {
	out := h.Clone()
	out.Del("X-API-Key")
	return out
}

func (s *Server) record(r RecordedRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
}

// Requests returns the request log, oldest first (the /_fake/ endpoints
// are not logged).
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RecordedRequest(nil), s.requests...)
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Applied returns the changes applied to a CVM (any id form), oldest first.
func (s *Server) Applied(cvmID string) []AppliedChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return nil
	}
	return append([]AppliedChange(nil), c.applied...)
}
