package phala

import (
	"fmt"
	"io"
	"net/http"
)

// response is an answer read in full (within limits) and closed.
type response struct {
	status int
	header http.Header
	body   []byte
	// key is the API key the request carried, to scrub from excerpts.
	key secret
}

// read turns what a generated call returned into a response, reading at
// most MaxResponseBody of a success and MaxErrorBody of anything else.
func read(resp *http.Response, err error) (*response, error) {
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := int64(MaxResponseBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = MaxErrorBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &TransportError{Method: resp.Request.Method, Path: redactedPath(resp.Request.URL),
			Err: fmt.Errorf("reading the %d answer: %w", resp.StatusCode, err)}
	}
	if int64(len(body)) > limit {
		if limit == MaxResponseBody {
			return nil, fmt.Errorf("%w: %s %s answered more than %d bytes", ErrResponseTooLarge,
				resp.Request.Method, redactedPath(resp.Request.URL), MaxResponseBody)
		}
		body = body[:limit]
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: body}
	if resp.Request != nil {
		r.key = secret(resp.Request.Header.Get("X-API-Key"))
	}
	return r, nil
}

// expect returns nil when r has one of the wanted statuses, else the
// answer's *APIError.
func expect(r *response, want ...int) error {
	for _, s := range want {
		if r.status == s {
			return nil
		}
	}
	return newAPIError(r.status, r.header, r.body)
}
