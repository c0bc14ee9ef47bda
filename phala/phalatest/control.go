package phalatest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// control serves the /_fake/ endpoints (see WithControlEndpoints).
func (s *Server) control(r *http.Request, body []byte) response {
	path := strings.TrimPrefix(r.URL.Path, "/_fake/")
	notFound := jsonResponse(http.StatusNotFound, map[string]any{"detail": "unknown CVM or endpoint"})
	switch {
	case r.Method == http.MethodPost && path == "register-compose-hash":
		var b struct {
			CVMID       string `json:"cvm_id"`
			ComposeHash string `json:"compose_hash"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			return jsonResponse(http.StatusBadRequest, map[string]any{"detail": "want {cvm_id, compose_hash}"})
		}
		tx := s.RegisterComposeHash(b.CVMID, b.ComposeHash)
		if tx == "" {
			return jsonResponse(http.StatusBadRequest, map[string]any{"detail": "unknown CVM or malformed compose hash"})
		}
		return jsonResponse(http.StatusOK, map[string]any{"transaction_hash": tx})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "envs/"):
		env := s.Envs(strings.TrimPrefix(path, "envs/"))
		if env == nil {
			return notFound
		}
		return jsonResponse(http.StatusOK, env)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "applied/"):
		id := strings.TrimPrefix(path, "applied/")
		if _, ok := s.CVM(id); !ok {
			return notFound
		}
		applied := s.Applied(id)
		if applied == nil {
			applied = []AppliedChange{}
		}
		return jsonResponse(http.StatusOK, applied)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "compose/"):
		ac, h, ok := s.AppCompose(strings.TrimPrefix(path, "compose/"))
		if !ok {
			return notFound
		}
		return jsonResponse(http.StatusOK, map[string]any{"app_compose": ac, "compose_hash": h})
	case r.Method == http.MethodGet && path == "cvms":
		s.mu.Lock()
		var out []CVMSeed
		for _, c := range s.cvms {
			sd := c.seed
			sd.Env = nil // secrets stay out of listings
			out = append(out, sd)
		}
		s.mu.Unlock()
		return jsonResponse(http.StatusOK, out)
	case r.Method == http.MethodGet && path == "requests":
		reqs := s.Requests()
		type view struct {
			Method, Path, Operation, CVMID, Fault, RequestID string
			Status                                           int
			Applied                                          bool
		}
		out := []view{}
		for _, q := range reqs {
			out = append(out, view{q.Method, q.Path, q.Operation, q.CVMID, q.Fault, q.RequestID, q.Status, q.Applied})
		}
		return jsonResponse(http.StatusOK, out)
	case r.Method == http.MethodGet && path == "violations":
		v := s.SpecViolations()
		if v == nil {
			v = []string{}
		}
		return jsonResponse(http.StatusOK, v)
	case r.Method == http.MethodGet && path == "kms-signer":
		return jsonResponse(http.StatusOK, map[string]any{"signer": s.KMSSigner()})
	}
	return notFound
}
