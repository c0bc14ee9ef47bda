package phala

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/phalacloud/go-sdk/gen"
)

// UpdateCVMListed lists (true) or unlists (false) the CVM in the
// marketplace (PATCH /cvms/{cvmId}/listed {"listed": ...}; official Go SDK
// v0.2.0 UpdateCVMListed). The change applies in place: no restart, no new
// compose hash, no attestation change. It returns nil once the API has set
// the flag; the answer (the CVM's VM object) is not read beyond checking
// that it is a JSON object. Errors: an ErrInvalidArgument error for a
// malformed id; an ErrUnexpectedResponse error for a 200 whose body is
// not a JSON object (e.g. a proxy's page; an empty body is accepted); an *APIError for any other
// answer.
func (c *Client) UpdateCVMListed(ctx context.Context, cvmID string, listed bool) error {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return err
	}
	req, err := gen.NewUpdateCVMListedRequest(c.server, id, nil, gen.UpdateListedRequest{Listed: listed})
	r, err := c.do(ctx, opUpdateCVMListed, req, err)
	if err != nil {
		return err
	}
	// The VM object's status is the CVM's run status ("running"), not an
	// update status, so the update answers' decoding does not apply; its
	// fields are not needed, but a body must be a JSON object.
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	var vm map[string]json.RawMessage
	return decodeJSON(r, &vm)
}
