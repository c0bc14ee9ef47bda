package phala

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// The CVM detail of 2026-01-21 and later (gen.CVMInfo) is a schema with
// additionalProperties, whose generated decoder reads every key into a
// map and unmarshals each declared field again from it. cvmDetailPlain
// decodes the same declared fields with encoding/json's struct decoding
// in one pass, and detailPlainSafe says when the two give the same result;
// otherwise, and on any decoding error, decodeCVMInfo falls back to the
// generated decoder, so results and errors stay exactly those of gen.
//
// Every declared field is present with a type that accepts and refuses
// the same JSON as gen's (a pointer only where the mapping needs presence;
// null leaves a value field zero, as a nil pointer derefs to zero), so
// that a body gen refuses is refused here too.
type cvmDetailPlain struct {
	AppID          string          `json:"app_id"`
	ComposeHash    string          `json:"compose_hash"`
	Gateway        jsonObjectOrNil `json:"gateway"`
	GatewayEnabled bool            `json:"gateway_enabled"`
	ID             detailID        `json:"id"`
	InstanceID     string          `json:"instance_id"`
	KMSInfo        *detailKMSInfo  `json:"kms_info"`
	KMSType        string          `json:"kms_type"`
	Listed         bool            `json:"listed"`
	Name           string          `json:"name"`
	Progress       *detailProgress `json:"progress"`
	PublicLogs     bool            `json:"public_logs"`
	PublicSysinfo  bool            `json:"public_sysinfo"`
	PublicTcbinfo  bool            `json:"public_tcbinfo"`
	Resource       *detailResource `json:"resource"`
	SecureTime     bool            `json:"secure_time"`
	Status         string          `json:"status"`
	StorageFs      string          `json:"storage_fs"`
	VMUUID         string          `json:"vm_uuid"`
}

type detailKMSInfo struct {
	ChainID            *int   `json:"chain_id"`
	DeployerAddress    string `json:"deployer_address"`
	DstackAppAddress   string `json:"dstack_app_address"`
	DstackKMSAddress   string `json:"dstack_kms_address"`
	EncryptedEnvPubkey string `json:"encrypted_env_pubkey"`
	ID                 string `json:"id"`
	K256Pubkey         string `json:"k256_pubkey"`
	RPCEndpoint        string `json:"rpc_endpoint"`
	Slug               string `json:"slug"`
}

type detailProgress struct {
	CorrelationID *string `json:"correlation_id"`
	StartedAt     string  `json:"started_at"`
	Target        *string `json:"target"`
}

type detailResource struct {
	DiskInGb     int     `json:"disk_in_gb"`
	Gpus         int     `json:"gpus"`
	InstanceType string  `json:"instance_type"`
	MemoryInGb   float64 `json:"memory_in_gb"`
	VCPU         int     `json:"vcpu"`
}

// detailID is the detail's id when it is a JSON string (the 2026-01-21
// shape); isString is false for any other value, or none.
type detailID struct {
	s        string
	isString bool
}

func (id *detailID) UnmarshalJSON(b []byte) error {
	*id = detailID{}
	if len(b) == 0 || b[0] != '"' {
		return nil
	}
	id.isString = true
	if raw := b[1 : len(b)-1]; bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		id.s = string(raw) // nothing to unescape or replace
		return nil
	}
	return json.Unmarshal(b, &id.s)
}

// jsonObjectOrNil accepts what gen's *map[string]interface{} accepts (a
// JSON object or null) without building the map.
type jsonObjectOrNil struct{}

func (jsonObjectOrNil) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' || string(b) == "null" {
		return nil
	}
	return errNotObject // never shown: decodeCVMInfo then uses gen's decoder
}

var errNotObject = errors.New("not a JSON object")

// plainKeys describes what a struct decoding must match exactly for
// plainSafe: each key, and for an object-valued key its slot in the
// repetition count (0 for a scalar).
type plainKeys struct {
	// byLen are the keys by length, each with its object slot (0: not an
	// object-valued key).
	byLen  [maxPlainKey + 1][]plainKey
	maxKey int
	// numbers: also refuse numbers a float64 cannot hold (see plainSafe).
	numbers bool
}

func newPlainKeys(numbers bool, objects []string, scalars ...string) *plainKeys {
	k := &plainKeys{numbers: numbers}
	for i, o := range objects {
		k.byLen[len(o)] = append(k.byLen[len(o)], plainKey{o, i + 1})
		k.maxKey = max(k.maxKey, len(o))
	}
	for _, s := range scalars {
		k.byLen[len(s)] = append(k.byLen[len(s)], plainKey{s, 0})
		k.maxKey = max(k.maxKey, len(s))
	}
	return k
}

type plainKey struct {
	name string
	slot int
}

// maxPlainKey bounds plainKeys.maxKey (the stack buffer of plainSafe).
const maxPlainKey = 32

// detailKeys are the keys the detail's generated decoders match exactly
// (top level, kms_info, resource, progress); the object-valued ones are
// those whose repetition struct decoding merges where gen keeps the last.
var detailKeys = newPlainKeys(true, []string{"gateway", "kms_info", "progress", "resource"},
	"app_id", "compose_hash", "gateway_enabled", "id", "instance_id", "kms_type", "listed", "name",
	"public_logs", "public_sysinfo", "public_tcbinfo", "secure_time", "status", "storage_fs", "vm_uuid",
	"chain_id", "deployer_address", "dstack_app_address", "dstack_kms_address", "encrypted_env_pubkey",
	"k256_pubkey", "rpc_endpoint", "slug", "disk_in_gb", "gpus", "instance_type", "memory_in_gb", "vcpu",
	"correlation_id", "started_at", "target")

// detailPlainSafe: see plainSafe.
func detailPlainSafe(body []byte) bool { return plainSafe(body, detailKeys) }

// plainSafe reports whether encoding/json's struct decoding of body (keys
// matched case-insensitively, a repeated object merged) is sure to give
// what an exact-key, last-wins map decoding gives. It looks at every JSON
// string of the body that could be a key: none may fold to one of k's keys
// without being it (ASCII case, or the two non-ASCII runes that fold to
// ASCII letters), none may hold an escape (which could spell a key), and
// no object-valued key may occur twice. Values are looked at too, which
// can only make it answer false more often. With k.numbers it also answers
// false for a number with an exponent or over 300 digits: gen decodes the
// undeclared fields (and gateway) into interface{}, where a number beyond
// float64 is an error that skipping them would not see.
func plainSafe(body []byte, k *plainKeys) bool {
	var seen [8]int
	digits := 0
	for i := 0; i < len(body); i++ {
		if c := body[i]; c != '"' {
			if k.numbers {
				switch numberClass[c] {
				case numDigit:
					if digits++; digits > 300 {
						return false
					}
					continue
				case numExponent:
					if digits > 0 {
						return false
					}
				}
				digits = 0
			}
			continue
		}
		digits = 0
		j, esc, ascii := i+1, false, true
		for j < len(body) {
			if j+8 <= len(body) {
				m := specialBytes(binary.LittleEndian.Uint64(body[j:]))
				if m == 0 {
					j += 8 // eight plain ASCII bytes, none a quote or backslash
					continue
				}
				j += bits.TrailingZeros64(m) / 8 // the first special one
			} else if stringClass[body[j]] == 0 {
				j++
				continue
			}
			c := body[j]
			if c == '"' {
				break
			}
			if c == '\\' {
				esc = true
				j += 2
				continue
			}
			ascii = false
			j++
		}
		s := body[i+1 : min(j, len(body))]
		i = j
		if len(s) > 3*k.maxKey { // no rune is over 3 bytes that folds to ASCII
			continue
		}
		if esc {
			return false
		}
		if !ascii {
			if foldsToASCII(s) {
				return false
			}
			continue
		}
		if len(s) > k.maxKey {
			continue
		}
		for _, key := range k.byLen[len(s)] {
			if !foldEqual(s, key.name) {
				continue
			}
			if string(s) != key.name {
				return false // a case variant of a key
			}
			if key.slot > 0 {
				if seen[key.slot]++; seen[key.slot] > 1 {
					return false
				}
			}
			break
		}
	}
	return true
}

// specialBytes marks (top bit) the bytes of w, little-endian, that are a
// quote, a backslash or not ASCII, with the classic "has a zero byte" test
// on w with those bytes turned to zero. Only the lowest mark is sure to be
// one (a borrow can mark a byte above a real one), which is all plainSafe
// reads.
func specialBytes(w uint64) uint64 {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	q, b := w^(ones*'"'), w^(ones*'\\')
	return ((q-ones)&^q | (b-ones)&^b | w) & tops
}

// foldEqual reports whether s is lower, a lower-case ASCII key, in any
// ASCII case.
func foldEqual(s []byte, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// numberClass sorts the bytes outside strings for plainSafe's number
// check; stringClass marks the bytes inside a string plainSafe stops at.
var numberClass, stringClass = func() (n, s [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		n[c] = numDigit
	}
	n['.'] = numDigit
	n['e'], n['E'] = numExponent, numExponent
	s['"'], s['\\'] = 1, 1
	for c := utf8.RuneSelf; c < 256; c++ {
		s[c] = 1
	}
	return n, s
}()

const (
	numOther = iota
	numDigit
	numExponent
)

// foldsToASCII reports whether s holds a non-ASCII rune that simple case
// folding maps to an ASCII letter (U+017F ſ, U+212A K), or invalid UTF-8.
func foldsToASCII(s []byte) bool {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n <= 1 {
			return true
		}
		s = s[n:]
		if r < utf8.RuneSelf {
			continue
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < utf8.RuneSelf {
				return true
			}
		}
	}
	return false
}

// decodeDetailPlain decodes a detail whose id is a JSON string into
// CVMInfo in one pass, without gen's decoder. Such a detail is what
// legacyDetail calls the 2026-01-21 shape whatever the client's version
// (it reads the same last top-level "id"), so this is the gen.CVMInfo
// decoding. ok is false when the caller must take the usual way: another
// id, a body detailPlainSafe refuses, or any decoding error (gen's decoder
// then gives the error).
func decodeDetailPlain(body []byte) (info *CVMInfo, ok bool) {
	if !detailPlainSafe(body) {
		return nil, false
	}
	var d cvmDetailPlain
	if json.Unmarshal(body, &d) != nil || !d.ID.isString {
		return nil, false
	}
	return d.info(), true
}

// info maps a decoded detail of the 2026-01-21 shape to CVMInfo.
func (d *cvmDetailPlain) info() *CVMInfo {
	info := &CVMInfo{ID: d.ID.s, Name: d.Name, AppID: d.AppID, VMUUID: d.VMUUID, InstanceID: d.InstanceID,
		Status: d.Status, KMSType: d.KMSType, ComposeHash: d.ComposeHash, PublicLogs: d.PublicLogs,
		PublicSysinfo: d.PublicSysinfo, PublicTcbinfo: d.PublicTcbinfo, SecureTime: d.SecureTime, Listed: d.Listed}
	if p := d.Progress; p != nil && (p.CorrelationID != nil || p.Target != nil) {
		info.Progress = &CVMProgress{Target: deref(p.Target), StartedAt: p.StartedAt, CorrelationID: deref(p.CorrelationID)}
		info.InProgress = true
	}
	if k := d.KMSInfo; k != nil {
		info.KMSInfo = &CVMKMSInfo{ID: k.ID, Slug: k.Slug, EncryptedEnvPublicKey: k.EncryptedEnvPubkey,
			DstackKMSAddress: k.DstackKMSAddress, DstackAppAddress: k.DstackAppAddress,
			DeployerAddress: k.DeployerAddress, RPCEndpoint: k.RPCEndpoint, K256PublicKey: k.K256Pubkey}
		if k.ChainID != nil {
			v := int64(*k.ChainID)
			info.KMSInfo.ChainID = &v
		}
	}
	if res := d.Resource; res != nil {
		info.VCPU, info.DiskGB, info.InstanceType = res.VCPU, res.DiskInGb, res.InstanceType
		info.MemoryGB = res.MemoryInGb
		setMemoryMB(info)
	}
	return info
}

// detailFlagKeys are the keys UpdateCVMVisibility reads from a detail.
var detailFlagKeys = newPlainKeys(false, nil, "id", "public_sysinfo", "public_logs", "public_tcbinfo")

// visibilityKeys are the flags UpdateCVMVisibility reads from its answer.
var visibilityKeys = newPlainKeys(false, nil, "public_sysinfo", "public_logs", "public_tcbinfo")

// jsonFlag is one flag of the visibility answer: whether it is a JSON
// boolean (what isJSONBool says of the raw value) and which.
type jsonFlag struct{ isBool, val bool }

func (f *jsonFlag) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	*f = jsonFlag{isBool: s == "true" || s == "false", val: s == "true"}
	return nil
}

// visibilityAnswer is the visibility answer's three flags, decoded with
// struct decoding when plainSafe allows it; ok false means: decode it as
// a map[string]json.RawMessage instead (it also gives the error).
func visibilityAnswer(body []byte) (sysinfo, logs, tcbinfo jsonFlag, ok bool) {
	if !plainSafe(body, visibilityKeys) {
		return sysinfo, logs, tcbinfo, false
	}
	var a struct {
		PublicSysinfo jsonFlag `json:"public_sysinfo"`
		PublicLogs    jsonFlag `json:"public_logs"`
		PublicTcbinfo jsonFlag `json:"public_tcbinfo"`
	}
	if json.Unmarshal(body, &a) != nil {
		return sysinfo, logs, tcbinfo, false
	}
	return a.PublicSysinfo, a.PublicLogs, a.PublicTcbinfo, true
}
