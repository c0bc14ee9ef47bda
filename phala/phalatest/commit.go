package phalatest

import (
	"net/http"

	"github.com/phalacloud/go-sdk/phala"
)

// commitToken is a one-time token of a prepare-only 465 answer.
type commitToken struct {
	cvmID      string
	hash       string
	superseded bool // a newer prepare for the same CVM replaced it
}

// rememberCommitToken records a token handed out with a prepare-only 465
// (called with s.mu held). A newer prepare for the same CVM supersedes
// every earlier token of that CVM, as Phala documents it (phala-docs
// multisig-governance.mdx @af079833; 466 at commit time): the earlier
// tokens then answer 466.
func (s *Server) rememberCommitToken(token string, c *cvm, hash string) {
	if s.commitTokens == nil {
		s.commitTokens = map[string]commitToken{}
	}
	for k, t := range s.commitTokens {
		if t.cvmID == c.seed.ID {
			t.superseded = true
			s.commitTokens[k] = t
		}
	}
	s.commitTokens[token] = commitToken{cvmID: c.seed.ID, hash: hash}
}

// commitCVMUpdate serves POST /cvms/{cvmId}/commit-update: phase 2 of a
// prepared (multisig) update, authorised by its one-time token instead of
// the API key (official reference: CommitUpdateRequest, 202).
func (cl *call) commitCVMUpdate() response {
	var b struct {
		Token           string `json:"token"`
		ComposeHash     string `json:"compose_hash"`
		TransactionHash string `json:"transaction_hash"`
	}
	if resp, ok := cl.resolveMutableJSON(&b); !ok {
		return resp
	}
	token := b.Token
	if token == "" {
		token = cl.r.URL.Query().Get("token")
	}
	if token == "" {
		return cl.badRequest("", "A commit token is required (body token or ?token=)")
	}
	c := cl.cvm
	t, ok := cl.s.commitTokens[token]
	if !ok || t.cvmID != c.seed.ID {
		return errorResponse(http.StatusNotFound, "", "Commit token not found, already used, or for another CVM", cl.reqID, nil,
			[]string{"Prepare the update again with X-Prepare-Only: true"})
	}
	h := t.hash
	if t.superseded {
		return *cl.hashRefused(phala.HTTPStatusComposeHashExpired, h,
			"Compose hash is invalid or expired: a newer prepare for this CVM superseded the commit token; prepare again")
	}
	if b.ComposeHash != "" && normHash(b.ComposeHash) != h {
		return *cl.hashRefused(phala.HTTPStatusComposeHashExpired, normHash(b.ComposeHash),
			"Compose hash is invalid: it is not the hash of the prepared update")
	}
	if !c.onChain() {
		return cl.badRequest("", "The CVM is not on an on-chain KMS")
	}
	ch, resp := cl.phase2(&change{}, h, b.TransactionHash)
	if resp != nil {
		return *resp
	}
	delete(cl.s.commitTokens, token)
	return cl.accepted(cl.apply(ch, true), nil)
}
