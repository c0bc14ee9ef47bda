package attest

import (
	"bytes"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/phalacloud/go-sdk/internal/jsjson"
)

// RuntimeEventType is the TCG event type dstack gives the events its guest
// emits into RTMR3 (Dstack-TEE/dstack cc-eventlog runtime_events.rs).
const RuntimeEventType = 0x08000001

// Event is one entry of a dstack event log, as dstack's Info() and Phala
// Cloud's tcb_info.event_log write it: all byte fields hex.
type Event struct {
	IMR          int    `json:"imr"`        // 0-3: the RTMR the event extends
	EventType    uint32 `json:"event_type"` // RuntimeEventType for dstack runtime events
	Digest       string `json:"digest"`     // SHA-384, hex; recomputed for runtime events
	Event        string `json:"event"`      // runtime event name, e.g. "compose-hash"
	EventPayload string `json:"event_payload"`
	// Version 2 runtime events hash a JCS JSON document instead of the
	// "type:name:payload" concatenation.
	Version int `json:"version,omitempty"`
}

// EventLog is a dstack event log. It decodes from a JSON array of events
// or from a JSON string holding that array (as dstack's GetQuote returns it).
type EventLog []Event

// UnmarshalJSON accepts an array or a JSON-encoded string of an array.
func (l *EventLog) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		b = []byte(s)
	}
	var events []Event
	if err := json.Unmarshal(b, &events); err != nil {
		return err
	}
	*l = events
	return nil
}

// RuntimeEvent is a runtime event whose digest this package computed.
type RuntimeEvent struct {
	Name    string
	Payload []byte
	Digest  [48]byte
}

// Replay is the result of replaying an event log.
type Replay struct {
	RTMR    [4][48]byte    // each starts at 48 zero bytes, mr = SHA384(mr || digest)
	Runtime []RuntimeEvent // the RTMR3 runtime events, in log order
}

// Lookup returns the payload of the only runtime event named name. ok is
// false when there is none; more than one is an ambiguity Verify rejects.
func (r *Replay) Lookup(name string) (payload []byte, ok bool) {
	for _, e := range r.Runtime {
		if e.Name == name {
			return e.Payload, true
		}
	}
	return nil, false
}

// RuntimeEventDigest computes a dstack runtime event's digest from its
// name and payload: SHA-384(le32(0x08000001) || ":" || name || ":" ||
// payload) for version 1 (0 or 1), and SHA-384 of the JCS document
// {"name":…,"payload":hex,"type":134217729} for version 2.
func RuntimeEventDigest(name string, payload []byte, version int) [48]byte {
	if version == 2 {
		doc := []byte(`{"name":`)
		doc = jsjson.AppendString(doc, name)
		doc = append(doc, `,"payload":"`...)
		doc = hex.AppendEncode(doc, payload)
		doc = append(doc, `","type":`+strconv.Itoa(RuntimeEventType)+`}`...)
		return sha512.Sum384(doc)
	}
	h := sha512.New384()
	_ = binary.Write(h, binary.LittleEndian, uint32(RuntimeEventType))
	h.Write([]byte(":" + name + ":"))
	h.Write(payload)
	var d [48]byte
	h.Sum(d[:0])
	return d
}

// ReplayEventLog replays log into RTMR0-3. The digest of every runtime
// event is recomputed from its name and payload (never taken from its
// digest field); a digest field that disagrees is a tampered event and
// fails with ErrEventLog naming it. Other events (firmware and kernel
// measurements in RTMR0-2) use their digest field, which the RTMR
// comparison with the quote then vouches for. RTMR3 may hold runtime
// events only.
func ReplayEventLog(log EventLog) (*Replay, error) {
	r := &Replay{}
	for i, e := range log {
		if e.IMR < 0 || e.IMR > 3 {
			return nil, fail(CheckEventLog, "event %d: imr %d is not 0-3", i, e.IMR)
		}
		given, err := hex.DecodeString(e.Digest)
		if err != nil || len(given) != 48 {
			return nil, fail(CheckEventLog, "event %d (%q): digest is not 48 bytes of hex", i, e.Event)
		}
		digest := [48]byte(given)
		if e.EventType == RuntimeEventType {
			payload, err := hex.DecodeString(e.EventPayload)
			if err != nil {
				return nil, fail(CheckEventLog, "event %d (%q): payload is not hex", i, e.Event)
			}
			if e.Version != 0 && e.Version != 1 && e.Version != 2 {
				return nil, fail(CheckEventLog, "event %d (%q): unknown runtime event version %d", i, e.Event, e.Version)
			}
			digest = RuntimeEventDigest(e.Event, payload, e.Version)
			if !bytes.Equal(digest[:], given) {
				return nil, fail(CheckEventLog, "event %d (%q) is tampered: its digest field is not the digest of its name and payload", i, e.Event)
			}
			if e.IMR == 3 {
				r.Runtime = append(r.Runtime, RuntimeEvent{Name: e.Event, Payload: payload, Digest: digest})
			}
		} else if e.IMR == 3 {
			return nil, fail(CheckEventLog, "event %d: type %#x in RTMR3 is not a dstack runtime event", i, e.EventType)
		}
		h := sha512.New384()
		h.Write(r.RTMR[e.IMR][:])
		h.Write(digest[:])
		h.Sum(r.RTMR[e.IMR][:0])
	}
	return r, nil
}

// checkRTMRs requires the replayed RTMRs to equal the quote's.
func (r *Replay) checkRTMRs(q *TDReport) error {
	for i := range r.RTMR {
		if r.RTMR[i] != q.RTMR[i] {
			return fail(CheckRTMR, "replayed RTMR%d %x is not the quote's %x", i, r.RTMR[i], q.RTMR[i])
		}
	}
	return nil
}
