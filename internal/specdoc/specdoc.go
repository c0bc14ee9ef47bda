// Package specdoc loads openapi/phala-cloud.yaml once per process for
// everything that validates against it: phalatest's fake and the phala
// tests' validating transport.
package specdoc

import (
	"context"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/phalacloud/go-sdk/openapi"
)

var loaded struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

// Doc returns the parsed and validated document. Loading it costs about a
// second under the race detector, so it happens once; callers only read
// it (routing and validation do not change it). The first call also
// registers text/yaml as a plain-text body: the YAML decoder would turn a
// compose file into a map and fail its string schema.
func Doc() (*openapi3.T, error) {
	loaded.once.Do(func() {
		openapi3filter.RegisterBodyDecoder("text/yaml", openapi3filter.PlainBodyDecoder)
		doc, err := openapi3.NewLoader().LoadFromData(openapi.Spec)
		if err != nil {
			loaded.err = fmt.Errorf("loading the OpenAPI document: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			loaded.err = fmt.Errorf("the OpenAPI document is invalid: %w", err)
			return
		}
		loaded.doc = doc
	})
	return loaded.doc, loaded.err
}

// Router routes requests of the document served at serverURL (a full URL,
// or a path such as /api/v1 to match any host).
func Router(serverURL string) (routers.Router, error) {
	doc, err := Doc()
	if err != nil {
		return nil, err
	}
	d := *doc // shallow copy: only Servers differs per server
	d.Servers = openapi3.Servers{{URL: serverURL}}
	return gorillamux.NewRouter(&d)
}

// Options are the validation options both users share; withStatus also
// checks that a response's status is one the operation declares.
func Options(withStatus bool) *openapi3filter.Options {
	return &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults:   true,
		IncludeResponseStatus: withStatus,
		MultiError:            true,
	}
}
