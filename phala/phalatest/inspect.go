package phalatest

// CVMIDs lists the hashed ids of the server's CVMs, in seed order.
func (s *Server) CVMIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, c := range s.cvms {
		ids = append(ids, c.seed.ID)
	}
	return ids
}

// CVM returns the normalised seed of the CVM that id names (any id form),
// with every derived id filled in.
func (s *Server) CVM(id string) (CVMSeed, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(id)
	if c == nil {
		return CVMSeed{}, false
	}
	return c.seed, true
}

// Envs returns the environment the CVM's VM would see: the last
// decrypted env set, filtered by the app's allowed_envs. It returns nil
// for an unknown CVM.
func (s *Server) Envs(cvmID string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return nil
	}
	return c.visibleEnv()
}

// AppCompose returns a copy of the CVM's current app-compose and its
// compose hash.
func (s *Server) AppCompose(cvmID string) (map[string]any, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return nil, "", false
	}
	return cloneCompose(c.appCompose), hashOf(c.appCompose), true
}

// Status returns the CVM's run status: "running", "updating" while an
// accepted update runs, or "exited" after a failed boot (see FailNextBoot).
func (s *Server) Status(cvmID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return ""
	}
	s.refreshLocked(c, s.opts.clock())
	return c.status
}

// SpecViolations lists the answers that did not match the OpenAPI
// document (empty when the fake behaved).
func (s *Server) SpecViolations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.viol...)
}
