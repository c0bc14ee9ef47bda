package phalatest

import "net/http"

// WithMiddleware puts wrap in front of the fake: wrap gets the server's
// handler and returns the handler the listener serves, e.g. to answer
// extra paths (cmd/phala-fake serves the OpenAPI document and its
// reference page this way). Requests that wrap answers itself never reach
// the fake: they are not recorded, validated or subject to faults, and
// need no API key. With several WithMiddleware options the last one is the
// outermost. A nil wrap is ignored.
func WithMiddleware(wrap func(next http.Handler) http.Handler) Option {
	return func(o *options) {
		if wrap != nil {
			o.wrap = append(o.wrap, wrap)
		}
	}
}
