package phala

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The one place that maps an answer (status, header, body) to the error a
// caller gets: newAPIError for an error status, unexpectedAnswer for a
// success status whose body is not the API's answer.

// errorBody is the union of the error body shapes the API uses.
type errorBody struct {
	ErrorCode   string          `json:"error_code"`
	Message     string          `json:"message"`
	RequestID   string          `json:"request_id"`
	Details     []ErrorDetail   `json:"details"`
	Suggestions []string        `json:"suggestions"`
	Links       []ErrorLink     `json:"links"`
	Detail      json.RawMessage `json:"detail"`
}

// newAPIError maps (status, header, body) to an *APIError. It is the only
// place that does, so every method reports errors alike. body and h are
// scrubbed already; every text decoded from them is scrubbed of sec again,
// as decoding (JSON escapes, the repair of invalid UTF-8) can reassemble a
// secret the bytes held apart.
func newAPIError(status int, h http.Header, body []byte, sec secrets) *APIError {
	e := &APIError{StatusCode: status, RetryAfter: h.Get("Retry-After"), Location: h.Get("Location")}
	if len(body) > MaxErrorBody {
		body = body[:MaxErrorBody]
	}
	e.RawBody = body
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.fill(&eb)
	} else if s := snippet(body); s != "" {
		e.Message = s
	}
	if e.RequestID == "" {
		e.RequestID = h.Get(headerRequestID)
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.scrub(sec)
	return e
}

// scrub removes the secrets from every text of e.
func (e *APIError) scrub(sec secrets) {
	if len(sec) == 0 {
		return
	}
	e.Code, e.Message, e.RequestID = ErrorCode(sec.String(string(e.Code))), sec.String(e.Message), sec.String(e.RequestID)
	e.RetryAfter, e.Location = sec.String(e.RetryAfter), sec.String(e.Location)
	e.RawBody = sec.body(e.RawBody, false)
	for i, d := range e.Details {
		e.Details[i] = ErrorDetail{Field: sec.String(d.Field), Value: sec.body(d.Value, false)}
	}
	for i, s := range e.Suggestions {
		e.Suggestions[i] = sec.String(s)
	}
	for i, l := range e.Links {
		e.Links[i] = ErrorLink{URL: sec.String(l.URL), Label: sec.String(l.Label)}
	}
	for i, v := range e.Validation {
		for j, l := range v.Loc {
			if s, ok := l.(string); ok {
				v.Loc[j] = sec.String(s)
			}
		}
		e.Validation[i].Msg, e.Validation[i].Type = sec.String(v.Msg), sec.String(v.Type)
	}
}

// fill copies a decoded body, unwrapping FastAPI's detail in its forms: a
// string, a list of validation problems, or an object with the same fields.
func (e *APIError) fill(eb *errorBody) {
	e.Code, e.Message, e.RequestID = ErrorCode(eb.ErrorCode), eb.Message, eb.RequestID
	e.Details, e.Suggestions, e.Links = eb.Details, eb.Suggestions, eb.Links
	d := bytes.TrimSpace(eb.Detail)
	if len(d) == 0 || bytes.Equal(d, []byte("null")) {
		return
	}
	switch d[0] {
	case '"':
		var s string
		if json.Unmarshal(d, &s) == nil && e.Message == "" {
			e.Message = s
		}
	case '[':
		var vs []ValidationProblem
		if json.Unmarshal(d, &vs) == nil {
			e.Validation = vs
			if e.Message == "" {
				e.Message = "request validation failed"
			}
		}
	case '{':
		var inner errorBody
		if json.Unmarshal(d, &inner) == nil {
			if inner.Detail != nil && bytes.Equal(bytes.TrimSpace(inner.Detail), d) {
				return
			}
			inner.Detail = nil
			outerMsg, outerCode := e.Message, e.Code
			e.fill(&inner)
			if outerMsg != "" {
				e.Message = outerMsg
			}
			if e.Code == "" {
				e.Code = outerCode
			}
		}
	}
}

// snippet makes a short, printable excerpt of a non-JSON body.
func snippet(body []byte) string {
	const max = 200
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "")), " ")
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return s
}

// unexpectedAnswer builds the error for r; the snippet is bounded and, as
// final text, scrubbed of the call's secrets.
func unexpectedAnswer(r *response, reason string) *UnexpectedResponseError {
	e := &UnexpectedResponseError{StatusCode: r.status, ContentType: r.header.Get("Content-Type"), Reason: reason,
		Snippet: r.secrets.String(snippet(r.body)), BodySize: len(r.body), RequestID: r.header.Get(headerRequestID)}
	if r.status < 200 || r.status > 299 {
		e.APIError = newAPIError(r.status, r.header, r.body, r.secrets)
	}
	return e
}
