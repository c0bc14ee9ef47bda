package phalatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/phalacloud/go-sdk/internal/specdoc"
)

// apiPrefix is where the API is mounted, as in production.
const apiPrefix = "/api/v1"

// specRouter holds the parsed OpenAPI document and a router over it.
type specRouter struct {
	doc    *openapi3.T
	router routers.Router
}

// loadSpec returns the document every Server shares (internal/specdoc
// parses it once per process) and a router whose server URL is relative
// (/api/v1), so that routing works whatever host or port the client used.
func loadSpec() (*specRouter, error) {
	doc, err := specdoc.Doc()
	if err != nil {
		return nil, fmt.Errorf("phalatest: %w", err)
	}
	r, err := specdoc.Router(apiPrefix)
	if err != nil {
		return nil, fmt.Errorf("phalatest: building the router: %w", err)
	}
	return &specRouter{doc: doc, router: r}, nil
}

// validateRequest checks r (whose body is body) against the operation of
// route. It returns FastAPI-style problems, or nil when the request is valid.
func validateRequest(ctx context.Context, route *routers.Route, params map[string]string, r *http.Request, body []byte) []validationProblem {
	r.Body = io.NopCloser(bytes.NewReader(body))
	defer func() { r.Body = io.NopCloser(bytes.NewReader(body)) }()
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: specdoc.Options(false)}
	err := openapi3filter.ValidateRequest(ctx, in)
	if err == nil {
		return nil
	}
	return toProblems(err)
}

// validateResponse checks an answer against the operation's responses.
func validateResponse(ctx context.Context, route *routers.Route, params map[string]string, r *http.Request, resp response) error {
	opts := specdoc.Options(true)
	opts.ExcludeResponseBody = resp.stream != nil // a stream checks its events itself
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts},
		Status:                 resp.status,
		Header:                 resp.header,
		Body:                   io.NopCloser(bytes.NewReader(resp.body)),
		Options:                opts,
	}
	return openapi3filter.ValidateResponse(ctx, in)
}

// validationProblem is one entry of FastAPI's 422 body.
type validationProblem struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// toProblems turns kin-openapi's errors into FastAPI's {loc, msg, type}.
func toProblems(err error) []validationProblem {
	var out []validationProblem
	var walk func(error)
	walk = func(err error) {
		if me, ok := err.(openapi3.MultiError); ok {
			for _, e := range me {
				walk(e)
			}
			return
		}
		var re *openapi3filter.RequestError
		if !errors.As(err, &re) {
			out = append(out, validationProblem{Loc: []any{"request"}, Msg: err.Error(), Type: "value_error"})
			return
		}
		var loc []any
		switch {
		case re.Parameter != nil:
			loc = []any{re.Parameter.In, re.Parameter.Name}
		case re.RequestBody != nil:
			loc = []any{"body"}
		default:
			loc = []any{"request"}
		}
		inner := re.Err
		if nested, ok := inner.(openapi3.MultiError); ok {
			for _, e := range nested {
				out = append(out, problemFrom(loc, re, e))
			}
			return
		}
		out = append(out, problemFrom(loc, re, inner))
	}
	walk(err)
	if len(out) == 0 {
		out = append(out, validationProblem{Loc: []any{"request"}, Msg: "Invalid request", Type: "value_error"})
	}
	return out
}

func problemFrom(loc []any, re *openapi3filter.RequestError, inner error) validationProblem {
	var se *openapi3.SchemaError
	if errors.As(inner, &se) {
		l := append([]any{}, loc...)
		for _, p := range se.JSONPointer() {
			l = append(l, p)
		}
		msg := se.Reason
		typ := pydanticType(se.SchemaField)
		if se.SchemaField == "required" {
			// kin-openapi reports a missing property on the parent object.
			if name, ok := missingProperty(se.Reason); ok {
				if len(l) == 0 || l[len(l)-1] != name {
					l = append(l, name)
				}
				msg, typ = "Field required", "missing"
			}
		}
		return validationProblem{Loc: l, Msg: msg, Type: typ}
	}
	if errors.Is(inner, openapi3filter.ErrInvalidRequired) || (inner == nil && strings.Contains(re.Reason, "required")) {
		return validationProblem{Loc: loc, Msg: "Field required", Type: "missing"}
	}
	msg := re.Reason
	if inner != nil {
		if msg != "" {
			msg += ": "
		}
		msg += inner.Error()
	}
	if msg == "" {
		msg = "Invalid value"
	}
	typ := "value_error"
	if errors.Is(inner, openapi3filter.ErrInvalidRequired) {
		typ = "missing"
	}
	return validationProblem{Loc: loc, Msg: msg, Type: typ}
}

// missingProperty extracts the property name from kin-openapi's
// `property "x" is missing`.
func missingProperty(reason string) (string, bool) {
	const pre = `property "`
	i := strings.Index(reason, pre)
	if i < 0 || !strings.Contains(reason, "missing") {
		return "", false
	}
	rest := reason[i+len(pre):]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return rest[:j], true
}

// pydanticType maps a JSON Schema keyword to the closest pydantic v2 error type.
func pydanticType(field string) string {
	m := map[string]string{
		"type": "type_error", "pattern": "string_pattern_mismatch", "minLength": "string_too_short",
		"maxLength": "string_too_long", "minimum": "greater_than_equal", "maximum": "less_than_equal",
		"enum": "enum", "required": "missing", "minItems": "too_short", "maxItems": "too_long",
		"additionalProperties": "extra_forbidden",
	}
	if t, ok := m[field]; ok {
		return t
	}
	return "value_error"
}
