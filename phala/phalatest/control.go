package phalatest

import (
	"encoding/json"
	"io"
	"net/http"
)

// controlMux routes the /_fake/ endpoints (see WithControlEndpoints) with
// the standard library's method patterns; any other path or method under
// /_fake/ answers the JSON 404 "unknown CVM or endpoint".
func (s *Server) controlMux() *http.ServeMux {
	mux := http.NewServeMux()
	route := func(pattern string, h func(*http.Request) response) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { writeResponse(w, h(r)) })
	}
	route("/_fake/", func(*http.Request) response { return controlNotFound() })
	route("POST /_fake/register-compose-hash", s.controlRegister)
	route("GET /_fake/envs/{cvmId}", func(r *http.Request) response {
		return controlFound(s.Envs(r.PathValue("cvmId")))
	})
	route("GET /_fake/applied/{cvmId}", func(r *http.Request) response {
		id := r.PathValue("cvmId")
		if _, ok := s.CVM(id); !ok {
			return controlNotFound()
		}
		return jsonResponse(http.StatusOK, nonNil(s.Applied(id)))
	})
	route("GET /_fake/compose/{cvmId}", func(r *http.Request) response {
		ac, h, ok := s.AppCompose(r.PathValue("cvmId"))
		if !ok {
			return controlNotFound()
		}
		return jsonResponse(http.StatusOK, map[string]any{"app_compose": ac, "compose_hash": h})
	})
	route("GET /_fake/cvms", func(*http.Request) response { return jsonResponse(http.StatusOK, s.listedSeeds()) })
	route("GET /_fake/requests", func(*http.Request) response { return jsonResponse(http.StatusOK, s.requestViews()) })
	route("GET /_fake/violations", func(*http.Request) response {
		return jsonResponse(http.StatusOK, nonNil(s.SpecViolations()))
	})
	route("PUT /_fake/attestation/{cvmId}", func(r *http.Request) response {
		body, _ := io.ReadAll(r.Body) // ServeHTTP has read it into memory already
		if !json.Valid(body) {
			return jsonResponse(http.StatusBadRequest, map[string]any{"detail": "want the attestation answer as JSON"})
		}
		if !s.SetAttestation(r.PathValue("cvmId"), body) {
			return controlNotFound()
		}
		return jsonResponse(http.StatusOK, map[string]any{"ok": true})
	})
	route("DELETE /_fake/attestation/{cvmId}", func(r *http.Request) response {
		if !s.SetAttestation(r.PathValue("cvmId"), nil) {
			return controlNotFound()
		}
		return jsonResponse(http.StatusOK, map[string]any{"ok": true})
	})
	route("GET /_fake/kms-signer", func(*http.Request) response {
		return jsonResponse(http.StatusOK, map[string]any{"signer": s.KMSSigner()})
	})
	return mux
}

// controlRegister serves POST /_fake/register-compose-hash
// {"cvm_id","compose_hash"} -> {"transaction_hash"}.
func (s *Server) controlRegister(r *http.Request) response {
	var b struct {
		CVMID       string `json:"cvm_id"`
		ComposeHash string `json:"compose_hash"`
	}
	body, _ := io.ReadAll(r.Body) // ServeHTTP has read it into memory already
	if err := json.Unmarshal(body, &b); err != nil {
		return jsonResponse(http.StatusBadRequest, map[string]any{"detail": "want {cvm_id, compose_hash}"})
	}
	tx := s.RegisterComposeHash(b.CVMID, b.ComposeHash)
	if tx == "" {
		return jsonResponse(http.StatusBadRequest, map[string]any{"detail": "unknown CVM or malformed compose hash"})
	}
	return jsonResponse(http.StatusOK, map[string]any{"transaction_hash": tx})
}

// listedSeeds is the CVMs' seeds without their env values (secrets stay
// out of listings).
func (s *Server) listedSeeds() []CVMSeed {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CVMSeed
	for _, c := range s.cvms {
		sd := c.seed
		sd.Env = nil
		out = append(out, sd)
	}
	return out
}

// requestView is a recorded request as the control endpoint lists it
// (no headers or bodies).
type requestView struct {
	Method, Path, Operation, CVMID, Fault, RequestID string
	Status                                           int
	Applied                                          bool
}

func (s *Server) requestViews() []requestView {
	out := []requestView{}
	for _, q := range s.Requests() {
		out = append(out, requestView{q.Method, q.Path, q.Operation, q.CVMID, q.Fault, q.RequestID, q.Status, q.Applied})
	}
	return out
}

func controlNotFound() response {
	return jsonResponse(http.StatusNotFound, map[string]any{"detail": "unknown CVM or endpoint"})
}

// controlFound answers v, or the 404 when v is nil (an unknown CVM).
func controlFound(v map[string]string) response {
	if v == nil {
		return controlNotFound()
	}
	return jsonResponse(http.StatusOK, v)
}

// nonNil turns a nil list into an empty one, so that it encodes as [].
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
