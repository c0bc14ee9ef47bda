package attest

import (
	"testing"
)

// FuzzParseQuote: no input panics, every rejection is a quote-format
// error, and an accepted quote is consistent with its input.
func FuzzParseQuote(f *testing.F) {
	for _, name := range []string{"dstack-0.5.8-nearmpc.quote.bin", "tdx-v5-dcapqvl.quote.bin"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte{4, 0, 2, 0, 0x81, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseQuote(b)
		if err != nil {
			if CheckOf(err) != CheckQuoteFormat {
				t.Fatalf("error of another check: %v", err)
			}
			return
		}
		if len(q.SignedData) > len(b) || (q.Version != 4 && q.Version != 5) {
			t.Fatalf("inconsistent quote: %d signed bytes of %d, version %d", len(q.SignedData), len(b), q.Version)
		}
	})
}

// FuzzReplayEventLog: no event log panics the replay.
func FuzzReplayEventLog(f *testing.F) {
	f.Add(3, uint32(RuntimeEventType), "00", "compose-hash", "ab", 0)
	f.Fuzz(func(t *testing.T, imr int, typ uint32, digest, name, payload string, version int) {
		_, _ = ReplayEventLog(EventLog{{IMR: imr, EventType: typ, Digest: digest, Event: name, EventPayload: payload, Version: version}})
	})
}
