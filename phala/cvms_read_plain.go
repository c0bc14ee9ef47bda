package phala

import (
	"bytes"
	"encoding/json"
	"errors"
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
	ID             string          `json:"id"`
	InstanceID     string          `json:"instance_id"`
	KMSInfo        *struct {
		ChainID            *int   `json:"chain_id"`
		DeployerAddress    string `json:"deployer_address"`
		DstackAppAddress   string `json:"dstack_app_address"`
		DstackKMSAddress   string `json:"dstack_kms_address"`
		EncryptedEnvPubkey string `json:"encrypted_env_pubkey"`
		ID                 string `json:"id"`
		RPCEndpoint        string `json:"rpc_endpoint"`
		Slug               string `json:"slug"`
	} `json:"kms_info"`
	KMSType  string `json:"kms_type"`
	Listed   bool   `json:"listed"`
	Name     string `json:"name"`
	Progress *struct {
		CorrelationID *string `json:"correlation_id"`
		StartedAt     string  `json:"started_at"`
		Target        *string `json:"target"`
	} `json:"progress"`
	PublicLogs    bool `json:"public_logs"`
	PublicSysinfo bool `json:"public_sysinfo"`
	PublicTcbinfo bool `json:"public_tcbinfo"`
	Resource      *struct {
		DiskInGb     int     `json:"disk_in_gb"`
		Gpus         int     `json:"gpus"`
		InstanceType string  `json:"instance_type"`
		MemoryInGb   float64 `json:"memory_in_gb"`
		VCPU         int     `json:"vcpu"`
	} `json:"resource"`
	SecureTime bool   `json:"secure_time"`
	Status     string `json:"status"`
	StorageFs  string `json:"storage_fs"`
	VMUUID     string `json:"vm_uuid"`
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

// detailKeys are the keys the detail's generated decoders match exactly
// (top level, kms_info, resource, progress); true marks the object-valued
// ones, whose repetition struct decoding merges where gen keeps the last.
var detailKeys = map[string]bool{
	"app_id": false, "compose_hash": false, "gateway": true, "gateway_enabled": false, "id": false,
	"instance_id": false, "kms_info": true, "kms_type": false, "listed": false, "name": false, "progress": true,
	"public_logs": false, "public_sysinfo": false, "public_tcbinfo": false, "resource": true, "secure_time": false,
	"status": false, "storage_fs": false, "vm_uuid": false,
	"chain_id": false, "deployer_address": false, "dstack_app_address": false, "dstack_kms_address": false,
	"encrypted_env_pubkey": false, "rpc_endpoint": false, "slug": false,
	"disk_in_gb": false, "gpus": false, "instance_type": false, "memory_in_gb": false, "vcpu": false,
	"correlation_id": false, "started_at": false, "target": false,
}

// maxDetailKey is the longest of detailKeys, in bytes.
const maxDetailKey = len("encrypted_env_pubkey")

// detailPlainSafe reports whether encoding/json's struct decoding of body
// (keys matched case-insensitively, a repeated object merged) is sure to
// give what gen's exact-key, last-wins decoding gives. It looks at every
// JSON string of the body that could be a key: none may fold to one of
// detailKeys without being it (ASCII case, or the two non-ASCII runes that
// fold to ASCII letters), none may hold an escape (which could spell a
// key), and no object-valued key may occur twice. Values are looked at
// too, which can only make it answer false more often. It also answers
// false for a number with an exponent or over 300 digits: gen decodes the
// undeclared fields (and gateway) into interface{}, where a number beyond
// float64 is an error that skipping them would not see.
func detailPlainSafe(body []byte) bool {
	var seen [4]int // gateway, kms_info, progress, resource
	var lower [maxDetailKey]byte
	digits := 0
	for i := 0; i < len(body); i++ {
		if c := body[i]; c != '"' {
			switch {
			case '0' <= c && c <= '9' || c == '.':
				if digits++; digits > 300 {
					return false
				}
			case (c == 'e' || c == 'E') && digits > 0:
				return false
			default:
				digits = 0
			}
			continue
		}
		digits = 0
		j, esc, ascii := i+1, false, true
		for ; j < len(body) && body[j] != '"'; j++ {
			switch c := body[j]; {
			case c == '\\':
				esc = true
				j++
			case c >= utf8.RuneSelf:
				ascii = false
			}
		}
		s := body[i+1 : min(j, len(body))]
		i = j
		if len(s) > 3*maxDetailKey { // no rune is over 3 bytes that folds to ASCII
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
		if len(s) > maxDetailKey {
			continue
		}
		for k, c := range s {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[k] = c
		}
		obj, known := detailKeys[string(lower[:len(s)])]
		if !known {
			continue
		}
		if !bytes.Equal(lower[:len(s)], s) {
			return false // a case variant of a key
		}
		if obj {
			n := 0
			switch string(s) {
			case "kms_info":
				n = 1
			case "progress":
				n = 2
			case "resource":
				n = 3
			}
			if seen[n]++; seen[n] > 1 {
				return false
			}
		}
	}
	return true
}

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

// decodeDetailPlain decodes a 2026-01-21 detail into CVMInfo without gen's
// decoder; ok is false when the caller must use gen's (see detailPlainSafe).
func decodeDetailPlain(body []byte) (info *CVMInfo, ok bool) {
	if !detailPlainSafe(body) {
		return nil, false
	}
	var d cvmDetailPlain
	if json.Unmarshal(body, &d) != nil {
		return nil, false // gen's decoder gives the error
	}
	info = &CVMInfo{ID: d.ID, Name: d.Name, AppID: d.AppID, VMUUID: d.VMUUID, InstanceID: d.InstanceID,
		Status: d.Status, KMSType: d.KMSType, ComposeHash: d.ComposeHash, PublicLogs: d.PublicLogs,
		PublicSysinfo: d.PublicSysinfo, PublicTcbinfo: d.PublicTcbinfo, SecureTime: d.SecureTime, Listed: d.Listed}
	if p := d.Progress; p != nil && (p.CorrelationID != nil || p.Target != nil) {
		info.Progress = &CVMProgress{Target: deref(p.Target), StartedAt: p.StartedAt, CorrelationID: deref(p.CorrelationID)}
		info.InProgress = true
	}
	if k := d.KMSInfo; k != nil {
		info.KMSInfo = &CVMKMSInfo{ID: k.ID, Slug: k.Slug, EncryptedEnvPubkey: k.EncryptedEnvPubkey,
			DstackKMSAddress: k.DstackKMSAddress, DstackAppAddress: k.DstackAppAddress,
			DeployerAddress: k.DeployerAddress, RPCEndpoint: k.RPCEndpoint}
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
	return info, true
}
