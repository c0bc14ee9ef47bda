// Package testkit holds the test helpers that the phalatest and onchain
// tests share, so that each is written once.
package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/phalacloud/go-sdk/phala"
)

// Context is t's context bounded to 60 s, so that a hung call fails its
// test instead of the whole run's timeout.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// QuickWait polls every 5 ms: the fakes change state at once.
func QuickWait() *phala.WaitOptions { return &phala.WaitOptions{PollInterval: 5 * time.Millisecond} }
