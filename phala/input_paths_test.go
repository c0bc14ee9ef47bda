package phala_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/phala"
)

func TestPathEscaping(t *testing.T) {
	hex40 := "9B5B3C1A4F2E6D7C8B9A0F1E2D3C4B5A69788796"
	// The normalisation is that of the official Go SDK's ResolveCVMID
	// (go/helpers.go) and @phala/cloud 0.2.9's CvmIdSchema: a UUID v4 loses
	// its dashes, a bare 40-hex app id gets app_ with its case kept.
	cases := []struct{ id, want string }{
		{"..%2Fkms", "..%252Fkms"},
		{"name%with", "name%25with"},
		{"q?x=1#frag", "q%3Fx=1%23frag"},
		{"app_" + testAppID, "app_" + testAppID},
		{testAppID, "app_" + testAppID},
		{hex40, "app_" + hex40},
		{"cvm_kq3Zp8", "cvm_kq3Zp8"},
		{"4211", "4211"},
		{"0f3c5a9e-1b2d-4c3e-8f7a-6b5c4d3e2f1a", "0f3c5a9e1b2d4c3e8f7a6b5c4d3e2f1a"},
		{"0F3C5A9E-1B2D-4C3E-8F7A-6B5C4D3E2F1A", "0F3C5A9E1B2D4C3E8F7A6B5C4D3E2F1A"},
		{"0f3c5a9e1b2d-4c3e8f7a-6b5c4d3e2f1a", "0f3c5a9e1b2d4c3e8f7a6b5c4d3e2f1a"},
		{"0f3c5a9e1b2d4c3e8f7a6b5c4d3e2f1a", "0f3c5a9e1b2d4c3e8f7a6b5c4d3e2f1a"},
		// Not v4 (version nibble 1): not a UUID to the official SDKs, sent as is.
		{"0f3c5a9e-1b2d-1c3e-8f7a-6b5c4d3e2f1a", "0f3c5a9e-1b2d-1c3e-8f7a-6b5c4d3e2f1a"},
		{"ünïcode", "%C3%BCn%C3%AFcode"},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			h := newHarness(t)
			h.reply("PATCH /cvms/{id}/docker-compose", http.StatusAccepted, acceptedJSON)
			h.reply("GET /cvms/{id}", http.StatusOK, `{"id":"cvm_1","name":"n","status":"running"}`)
			c := h.client()
			_, err := audited(c.UpdateDockerCompose(context.Background(), tc.id, testCompose, nil))
			require.NoError(t, err)
			_, err = audited(c.GetCVMInfo(context.Background(), tc.id))
			require.NoError(t, err)
			reqs := h.requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, "/api/v1/cvms/"+tc.want+"/docker-compose", reqs[0].EscapedPath)
			assert.Equal(t, "/api/v1/cvms/"+tc.want, reqs[1].EscapedPath)
			assert.Empty(t, reqs[0].RawQuery)
			// The id decodes back to exactly one path segment.
			seg, err := url.PathUnescape(strings.TrimPrefix(reqs[1].EscapedPath, "/api/v1/cvms/"))
			require.NoError(t, err)
			want, err := url.PathUnescape(tc.want)
			require.NoError(t, err)
			assert.Equal(t, want, seg)
		})
	}
	// White space, "/", NUL and invalid UTF-8 cannot be part of any CVM id
	// form; they are refused rather than escaped (a proxy may decode %2F).
	for _, id := range []string{"name with%", "a/b", "../kms", "x/../../admin", "/", "cvm_\x00x", "cvm_\xffx", "app_\xc3"} {
		t.Run(id, func(t *testing.T) {
			h := newHarness(t)
			_, err := audited(h.client().GetCVMInfo(context.Background(), id))
			require.ErrorIs(t, err, phala.ErrInvalidArgument)
			var ia *phala.InvalidArgumentError
			require.ErrorAs(t, err, &ia)
			assert.Equal(t, "cvmID", ia.Field)
			_, err = audited(h.client().UpdateDockerCompose(context.Background(), id, testCompose, nil))
			require.ErrorIs(t, err, phala.ErrInvalidArgument)
			assert.Equal(t, 0, h.count())
		})
	}
}
