package phala

import (
	"bytes"
	"io"
)

// readLimited reads at most limit+1 bytes of body (one over, so that the
// caller sees an answer over its limit). A known Content-Length within the
// limit sizes the buffer once instead of growing it; the length is only a
// hint, never trusted to end the read.
func readLimited(body io.Reader, contentLength, limit int64) ([]byte, error) {
	if contentLength < 0 || contentLength > limit {
		return io.ReadAll(io.LimitReader(body, limit+1))
	}
	b := make([]byte, 0, contentLength+1)
	lr := io.LimitReader(body, limit+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// bufferedBody is an answer's body read in full within the attempt, with
// the *APIError decoded from it for an error answer (nil for a success),
// which read takes instead of reading or decoding again.
type bufferedBody struct {
	r    bytes.Reader
	body []byte
	err  *APIError
	// out is where read puts the response (inside the attempt's
	// allocation), nil for a bufferedBody made elsewhere.
	out *response
}

func (d *bufferedBody) Read(p []byte) (int, error) { return d.r.Read(p) }

// Close does nothing: the body was read in full.
func (*bufferedBody) Close() error { return nil }
