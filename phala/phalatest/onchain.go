package phalatest

import (
	"crypto/rand"
	"encoding/hex"
)

// RegisterComposeHash stands in for the app contract's
// addComposeHash(bytes32): it allows hash (64 hex, optional 0x) for the
// CVM and returns the transaction hash (0x + 64 hex) that a phase-2
// request must carry. Registering the same hash again returns the same
// transaction hash. It returns "" for an unknown CVM or a malformed hash.
func (s *Server) RegisterComposeHash(cvmID, hash string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	h := normHash(hash)
	if c == nil || !hex64RE.MatchString(h) {
		return ""
	}
	if tx, ok := c.registered[h]; ok {
		return tx
	}
	tx := "0x" + randHex(32)
	c.registered[h] = tx
	return tx
}

// PendingComposeHashes lists the compose hashes answered with 465 and not
// yet confirmed for a CVM.
func (s *Server) PendingComposeHashes(cvmID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(cvmID)
	if c == nil {
		return nil
	}
	return sortedKeys(c.pending)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func hexEncode(b []byte) string { return hex.EncodeToString(b) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
