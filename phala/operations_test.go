package phala

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/internal/specdoc"
)

// The success statuses every method decides on are the ones
// openapi/phala-cloud.yaml declares: for each operation of the table, its
// 2xx responses exactly, and a phase-1 465 only where the spec declares one.
func TestOperationsMatchTheSpec(t *testing.T) {
	doc, err := specdoc.Doc()
	require.NoError(t, err)
	specOps := map[string]*openapi3.Operation{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			specOps[op.OperationID] = op
		}
	}
	seen := map[string]bool{}
	for _, op := range operations {
		require.False(t, seen[op.id], "%s is in the table twice", op.id)
		seen[op.id] = true
		spec, ok := specOps[op.id]
		if !assert.True(t, ok, "%s is not an operation of the spec", op.id) {
			continue
		}
		var success []int
		for code := range spec.Responses.Map() {
			n, err := strconv.Atoi(code)
			require.NoError(t, err, "%s: response %q", op.id, code)
			if n >= 200 && n <= 299 {
				success = append(success, n)
			}
		}
		slices.Sort(success)
		assert.Equal(t, success, op.success, "%s: the success statuses", op.id)
		if op.phase1 {
			assert.NotNil(t, spec.Responses.Status(statusComposeHashRequired), "%s: phase 1 needs a declared 465", op.id)
		}
	}
	// Every operation the generated client calls is in the table.
	for id := range specOps {
		assert.True(t, seen[id], "operation %s of the spec is missing from the table", id)
	}
}

// classify hands back exactly the declared statuses and turns every other
// one into the answer's *APIError.
func TestClassifyDecidesOnTheTable(t *testing.T) {
	for _, tc := range []struct {
		op     operation
		status int
		ok     bool
	}{
		{opUpdateCVMResources, 202, true},
		{opUpdateCVMResources, 204, true},
		{opUpdateCVMResources, 200, false},
		{opProvisionCVMComposeFileUpdate, 201, false},
		{opCommitCVMUpdate, 200, false},
		{opPatchCVM, 465, true},
		{opCommitCVMComposeFileUpdate, 465, false},
		{opGetCVMInfo, 404, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, `{}`)
		}))
		c, err := auditedClient(NewClient(WithAPIKey("k-classify-1"), WithBaseURL(srv.URL), WithRetryPolicy(RetryPolicy{MaxAttempts: 1})))
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPatch, srv.URL+"/x", strings.NewReader("{}"))
		r, err := c.do(context.Background(), tc.op, req, err)
		srv.Close()
		if tc.ok {
			require.NoError(t, err, "%s %d", tc.op.id, tc.status)
			assert.Equal(t, tc.status, r.status)
			continue
		}
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr, "%s %d", tc.op.id, tc.status)
		assert.Equal(t, tc.status, apiErr.StatusCode)
	}
}
