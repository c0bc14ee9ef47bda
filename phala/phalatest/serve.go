package phalatest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/routers"
)

const maxRequestBody = 4 << 20

// ServeHTTP answers one request: request id, fault injection, routing
// over the OpenAPI document, API key check, request validation (422), the
// operation itself, and the check of the answer against the document.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.newRequestID()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return // the client went away
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := RecordedRequest{Time: s.opts.clock(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: redactHeader(r.Header), Body: body, RequestID: reqID}

	if s.control != nil && strings.HasPrefix(r.URL.Path, "/_fake/") {
		w.Header().Set("X-Request-ID", reqID)
		s.control.ServeHTTP(w, r)
		return
	}

	f := s.pickFault(r)
	if f != nil && !f.AfterApply {
		if f.Latency > 0 {
			sleepCtx(r.Context(), f.Latency)
		}
		if f.Kind != FaultLatency {
			rec.Fault = f.Kind.String()
			s.answerFault(w, r, f, reqID, &rec)
			return
		}
	}

	resp, route, params, applied := s.handle(r, body, reqID)
	resp.header.Set("X-Request-ID", reqID)
	rec.Status, rec.Applied, rec.CVMID, rec.Operation = resp.status, applied.ok, applied.cvmID, applied.op

	if f != nil && f.AfterApply {
		rec.Fault = f.Kind.String()
		if f.Latency > 0 {
			sleepCtx(r.Context(), f.Latency)
		}
		if f.Kind != FaultLatency {
			s.answerFault(w, r, f, reqID, &rec)
			return
		}
	}
	if route != nil && s.opts.checkResp {
		if err := validateResponse(r.Context(), route, params, r, resp); err != nil {
			s.violation(fmt.Sprintf("%s %s -> %d: %v", r.Method, r.URL.Path, resp.status, err))
		}
	}
	s.record(rec)
	writeResponse(w, resp)
	if resp.stream != nil {
		resp.stream(w, r)
	}
}

// violation notes an answer that broke the OpenAPI document.
func (s *Server) violation(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.viol = append(s.viol, v)
}
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// appliedInfo says what handle did.
type appliedInfo struct {
	ok    bool
	cvmID string
	op    string
}

// handle routes, authenticates, validates and runs the operation.
func (s *Server) handle(r *http.Request, body []byte, reqID string) (response, *routers.Route, map[string]string, appliedInfo) {
	if len(body) > maxRequestBody {
		return jsonResponse(http.StatusRequestEntityTooLarge, map[string]any{"detail": "Request body too large"}), nil, nil, appliedInfo{}
	}
	route, params, err := s.spec.router.FindRoute(r)
	if err != nil {
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			return jsonResponse(http.StatusMethodNotAllowed, map[string]any{"detail": "Method Not Allowed"}), nil, nil, appliedInfo{}
		}
		return jsonResponse(http.StatusNotFound, map[string]any{"detail": "Not Found"}), nil, nil, appliedInfo{}
	}
	op := route.Operation.OperationID
	info := appliedInfo{op: op}
	needsKey := route.Operation.Security == nil || len(*route.Operation.Security) > 0
	if needsKey && !s.keyOK(r.Header.Get("X-API-Key")) {
		resp := errorResponse(http.StatusUnauthorized, "", "Invalid or missing API key", reqID, nil,
			[]string{"Send a valid key in the X-API-Key header"})
		resp.body = addField(resp.body, "detail", "Invalid or missing API key")
		return resp, route, params, info
	}
	if probs := validateRequest(r.Context(), route, params, r, body); probs != nil {
		return jsonResponse(http.StatusUnprocessableEntity, map[string]any{"detail": probs}), route, params, info
	}
	h, ok := handlers[op]
	if !ok {
		return jsonResponse(http.StatusNotImplemented, map[string]any{"detail": "Not implemented by the fake: " + op}), route, params, info
	}
	cl := &call{s: s, r: r, body: body, params: params, reqID: reqID, op: op}
	s.mu.Lock()
	cl.now = s.opts.clock()
	resp := h(cl)
	if cl.applied {
		s.notifyLocked()
	}
	s.mu.Unlock()
	info.ok = cl.applied
	if cl.cvm != nil {
		info.cvmID = cl.cvm.seed.ID
	}
	return resp, route, params, info
}

func (s *Server) keyOK(k string) bool {
	return k != "" && subtle.ConstantTimeCompare([]byte(k), []byte(s.opts.apiKey)) == 1
}
