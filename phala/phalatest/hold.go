package phalatest

// HoldUpdates makes updates wait for the test: from now until
// ReleaseUpdates, an accepted update keeps its CVM "updating" however long
// it runs, past WithUpdateDelay and whatever a WithClock clock says, and
// state streams keep waiting without polling. A test that must see the
// "updating" phase holds updates, lets the client observe it (e.g. from
// phala.WaitOptions.OnEvent) and then calls ReleaseUpdates, so no
// assertion depends on how fast the machine is. Only updates that have an
// updating phase are held: with WithUpdateDelay(0) updates still apply at
// once.
func (s *Server) HoldUpdates() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cvms {
		c.held = true
	}
}

// FinishUpdates ends every held update at once, as ReleaseUpdates does,
// but keeps the hold: updates accepted afterwards are held too. It suits a
// test that lets several updates run one after the other, each ending when
// the test has seen it (e.g. once a state stream has sent its first
// event). It returns how many updates it ended.
func (s *Server) FinishUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endHeldLocked(true)
}

// ReleaseUpdates lifts HoldUpdates and ends every running update at once:
// the CVM is "running" again (or "exited" with the failure FailNextBoot
// asked for) and open state streams see the change right away. It returns
// how many updates it ended; updates accepted afterwards run for
// WithUpdateDelay again. Without a hold it ends nothing and returns 0.
func (s *Server) ReleaseUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endHeldLocked(false)
}

// endHeldLocked ends the held updates now, keeping the hold or lifting it,
// and wakes the streams when one ended. Caller holds mu.
func (s *Server) endHeldLocked(keepHold bool) int {
	now := s.opts.clock()
	ended := 0
	for _, c := range s.cvms {
		if !c.held {
			continue
		}
		c.held = false
		if !c.busyUntil.IsZero() {
			if c.busyUntil.After(now) {
				c.busyUntil = now
			}
			if c.refresh(now) {
				ended++
			}
		}
		c.held = keepHold
	}
	if ended > 0 {
		s.notifyLocked()
	}
	return ended
}
