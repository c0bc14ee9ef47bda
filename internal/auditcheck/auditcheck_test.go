package auditcheck

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/phalacloud/go-sdk/phala"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every call in phala's tests (outside Example functions, which are
// documentation) hands the suite audit its result and its client, and
// every secret argument is registered.
func TestPhalaTestsHandEveryCallToTheAudit(t *testing.T) {
	sites, err := Find("../..", "./phala")
	require.NoError(t, err)
	calls := map[string]bool{}
	n := 0
	for _, s := range sites {
		if s.InExample {
			continue
		}
		n++
		if !s.Wrapped {
			t.Error(s)
		}
		if s.GoOrDefer {
			t.Errorf("%s:%d: %s is the statement of a go or defer: its arguments, the call included, run at once; use a func literal", s.File, s.Line, s.Callee)
		}
		if !s.Value && s.Kind <= KindErr {
			calls[s.Callee] = true
		}
	}
	// The check is not vacuous: the suite makes hundreds of such calls,
	// and every method of the Client that can fail is among them.
	assert.Greater(t, n, 400, "sites found")
	ct := reflect.TypeFor[*phala.Client]()
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		if out := m.Type.NumOut(); out == 0 || m.Type.Out(out-1) != reflect.TypeFor[error]() {
			continue
		}
		name := "(*github.com/phalacloud/go-sdk/phala.Client)." + m.Name
		assert.True(t, calls[name], "no audited test calls %s", name)
	}
}

// The check finds each kind of unaudited call in a fixture, and accepts
// the audited forms.
func TestFixtureUnwrappedCallsAreFound(t *testing.T) {
	sites, err := Find("../..", "./internal/auditcheck/testdata/fixture")
	require.NoError(t, err)
	var unwrapped, wrapped, goOrDefer []string
	for _, s := range sites {
		if s.GoOrDefer {
			goOrDefer = append(goOrDefer, s.Callee)
		}
		d := strings.TrimPrefix(s.Callee, "github.com/phalacloud/go-sdk/phala.")
		d = strings.ReplaceAll(d, "github.com/phalacloud/go-sdk/phala.", "")
		if s.Value {
			d = "value " + d
		}
		if s.Wrapped {
			wrapped = append(wrapped, d)
		} else {
			unwrapped = append(unwrapped, d)
		}
	}
	sort.Strings(unwrapped)
	sort.Strings(wrapped)
	assert.Equal(t, []string{
		"(*Client).CommitCVMUpdate (argument token)",
		"(*Client).GetCVMInfo",
		"(*Client).GetCVMInfo",
		"(*Client).UpdateCVMListed",
		"EncryptEnvVars (argument envs)",
		"NewClient",
		"value (*Client).GetCVMState",
	}, unwrapped)
	assert.Equal(t, []string{
		"(*Client).CommitCVMUpdate",
		"(*Client).CommitCVMUpdate",
		"(*Client).CommitCVMUpdate (argument token)",
		"(*Client).GetCVMInfo",
		"(*Client).UpdateCVMListed",
		"(*Client).UpdateCVMListed",
		"EncryptEnvVars",
		"EncryptEnvVars",
		"EncryptEnvVars (argument envs)",
		"NewClient",
	}, wrapped)
	assert.Equal(t, []string{"(*github.com/phalacloud/go-sdk/phala.Client).UpdateCVMListed"}, goOrDefer)
}
