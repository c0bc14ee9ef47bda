package phala

import (
	"context"
	"encoding/json"

	"github.com/phalacloud/go-sdk/gen"
)

// CVMState is a CVM's run state (GET /cvms/{cvmId}/state).
type CVMState struct {
	ID         string `json:"id"`
	InstanceID string `json:"instance_id"`
	Name       string `json:"name"`
	// Status is the run status, e.g. "starting", "running", "stopped".
	Status       string `json:"status"`
	Uptime       string `json:"uptime"`
	ExitedAt     string `json:"exited_at"`
	BootProgress string `json:"boot_progress"`
	// BootErrorMessage is the server's boot_error text; WaitForCVM and
	// WaitForUpdate return it as a *BootError.
	BootErrorMessage string `json:"boot_error"`
	ShutdownProgress string `json:"shutdown_progress"`
	// Progress is the operation in progress when the server includes it.
	Progress *CVMProgress `json:"-"`
}

// UnmarshalJSON decodes a state, tolerating nulls and the progress object.
func (s *CVMState) UnmarshalJSON(b []byte) error {
	var g gen.CVMState
	if err := json.Unmarshal(b, &g); err != nil {
		return err
	}
	*s = CVMState{ID: deref(g.ID), InstanceID: deref(g.InstanceID), Name: deref(g.Name), Status: g.Status,
		Uptime: deref(g.Uptime), ExitedAt: deref(g.ExitedAt), BootProgress: deref(g.BootProgress),
		BootErrorMessage: deref(g.BootError), ShutdownProgress: deref(g.ShutdownProgress)}
	if p := g.Progress; p != nil && (p.CorrelationID != nil || p.Target != nil) {
		s.Progress = &CVMProgress{Target: deref(p.Target), StartedAt: deref(p.StartedAt), CorrelationID: deref(p.CorrelationID)}
	}
	return nil
}

// GetCVMState reads the CVM's current run state. Errors: an
// ErrInvalidArgument error for a malformed id; an *APIError for any answer
// other than 200.
func (c *Client) GetCVMState(ctx context.Context, cvmID string) (*CVMState, error) {
	ctx, id, err := c.start(ctx, cvmID)
	if err != nil {
		return nil, err
	}
	return c.getState(ctx, id)
}

func (c *Client) getState(ctx context.Context, id string) (*CVMState, error) {
	req, err := gen.NewGetCVMStateRequest(c.server, id, nil)
	return decodeAs[CVMState](c.do(ctx, opGetCVMState, req, err))
}
