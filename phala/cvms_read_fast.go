package phala

import (
	"strconv"
	"unicode/utf8"
)

// parseDetail decodes a CVM detail of the 2026-01-21 shape in one pass by
// hand, as parseAccepted does for the update answer: encoding/json's
// reflection costs several times the parse on a detail, and far more on
// loopback than in a tight loop (BENCHMARKS.md). It takes only bodies it
// is sure decodeDetailPlain (and so gen's decoder) decodes to the same
// value: one object with a string id, declared fields of their JSON type
// (or null), strings without escapes, numbers without exponent and of at
// most 300 characters, each key spelled exactly (a case variant of a
// declared key, or a non-ASCII key, could match differently), no object-
// valued key twice, nesting at most maxDetailDepth deep; any other body
// reports ok false and takes the usual way. FuzzDetailPlain and
// TestDecodeDetailPlainMatchesGen hold the result to gen's decoder.
func parseDetail(body []byte) (*CVMInfo, bool) {
	var d cvmDetailPlain
	if !parseDetailInto(body, &d, true) {
		return nil, false
	}
	return d.info(), true
}

// parseDetailInto is parseDetail into d; with keep false it checks the
// whole body the same way but copies no string and allocates nothing
// (UpdateCVMVisibility needs the flags alone).
func parseDetailInto(body []byte, d *cvmDetailPlain, keep bool) bool {
	p := detailParser{b: body, keep: keep}
	var seen [4]bool // gateway, kms_info, progress, resource
	once := func(i int) bool {
		if seen[i] {
			return false
		}
		seen[i] = true
		return true
	}
	ok := p.object(topKeys, func(key string) bool {
		switch key {
		case "app_id":
			return p.str(&d.AppID)
		case "compose_hash":
			return p.str(&d.ComposeHash)
		case "gateway":
			return once(0) && p.objectOrNull()
		case "gateway_enabled":
			return p.bool(&d.GatewayEnabled)
		case "id":
			d.ID = detailID{}
			if p.null() {
				return true
			}
			raw, ok := p.rawString()
			if ok {
				d.ID.isString = true
				if p.keep {
					d.ID.s = string(raw)
				}
			}
			return ok
		case "instance_id":
			return p.str(&d.InstanceID)
		case "kms_info":
			return once(1) && p.kmsInfo(&d.KMSInfo)
		case "kms_type":
			return p.str(&d.KMSType)
		case "listed":
			return p.bool(&d.Listed)
		case "name":
			return p.str(&d.Name)
		case "progress":
			return once(2) && p.progress(&d.Progress)
		case "public_logs":
			return p.bool(&d.PublicLogs)
		case "public_sysinfo":
			return p.bool(&d.PublicSysinfo)
		case "public_tcbinfo":
			return p.bool(&d.PublicTcbinfo)
		case "resource":
			return once(3) && p.resource(&d.Resource)
		case "secure_time":
			return p.bool(&d.SecureTime)
		case "status":
			return p.str(&d.Status)
		case "storage_fs":
			return p.str(&d.StorageFs)
		case "vm_uuid":
			return p.str(&d.VMUUID)
		}
		return p.skip(0)
	})
	return ok && skipSpace(p.b, p.i) == len(p.b) && d.ID.isString
}

// The declared keys of each object of the detail (cvmDetailPlain).
var (
	topKeys = []string{"app_id", "compose_hash", "gateway", "gateway_enabled", "id", "instance_id", "kms_info",
		"kms_type", "listed", "name", "progress", "public_logs", "public_sysinfo", "public_tcbinfo", "resource",
		"secure_time", "status", "storage_fs", "vm_uuid"}
	kmsInfoKeys = []string{"chain_id", "deployer_address", "dstack_app_address", "dstack_kms_address",
		"encrypted_env_pubkey", "id", "k256_pubkey", "rpc_endpoint", "slug"}
	progressKeys = []string{"correlation_id", "started_at", "target"}
	resourceKeys = []string{"disk_in_gb", "gpus", "instance_type", "memory_in_gb", "vcpu"}
)

func (p *detailParser) kmsInfo(dst **detailKMSInfo) bool {
	if p.null() {
		*dst = nil
		return true
	}
	if !p.keep {
		var scratch detailKMSInfo // checked, not kept
		return p.kmsInfoFields(&scratch)
	}
	*dst = new(detailKMSInfo)
	return p.kmsInfoFields(*dst)
}

func (p *detailParser) kmsInfoFields(k *detailKMSInfo) bool {
	return p.object(kmsInfoKeys, func(key string) bool {
		switch key {
		case "chain_id":
			return p.intPtr(&k.ChainID)
		case "deployer_address":
			return p.str(&k.DeployerAddress)
		case "dstack_app_address":
			return p.str(&k.DstackAppAddress)
		case "dstack_kms_address":
			return p.str(&k.DstackKMSAddress)
		case "encrypted_env_pubkey":
			return p.str(&k.EncryptedEnvPubkey)
		case "id":
			return p.str(&k.ID)
		case "k256_pubkey":
			return p.str(&k.K256Pubkey)
		case "rpc_endpoint":
			return p.str(&k.RPCEndpoint)
		case "slug":
			return p.str(&k.Slug)
		}
		return p.skip(1)
	})
}

func (p *detailParser) progress(dst **detailProgress) bool {
	if p.null() {
		*dst = nil
		return true
	}
	if !p.keep {
		var scratch detailProgress // checked, not kept
		return p.progressFields(&scratch)
	}
	*dst = new(detailProgress)
	return p.progressFields(*dst)
}

func (p *detailParser) progressFields(g *detailProgress) bool {
	return p.object(progressKeys, func(key string) bool {
		switch key {
		case "correlation_id":
			return p.strPtr(&g.CorrelationID)
		case "started_at":
			return p.str(&g.StartedAt)
		case "target":
			return p.strPtr(&g.Target)
		}
		return p.skip(1)
	})
}

func (p *detailParser) resource(dst **detailResource) bool {
	if p.null() {
		*dst = nil
		return true
	}
	if !p.keep {
		var scratch detailResource // checked, not kept
		return p.resourceFields(&scratch)
	}
	*dst = new(detailResource)
	return p.resourceFields(*dst)
}

func (p *detailParser) resourceFields(r *detailResource) bool {
	return p.object(resourceKeys, func(key string) bool {
		switch key {
		case "disk_in_gb":
			return p.int(&r.DiskInGb)
		case "gpus":
			return p.int(&r.Gpus)
		case "instance_type":
			return p.str(&r.InstanceType)
		case "memory_in_gb":
			return p.float(&r.MemoryInGb)
		case "vcpu":
			return p.int(&r.VCPU)
		}
		return p.skip(1)
	})
}

// maxDetailDepth bounds how deep parseDetail follows nested values.
const maxDetailDepth = 32

// detailParser reads JSON from b at i; every method reports false for
// anything outside what parseDetail takes.
type detailParser struct {
	b []byte
	i int
	// keep: copy strings and allocate what pointers point to; else check
	// the values and keep none of them.
	keep bool
}

// object reads an object whose members' values member reads, given the
// exact key; a key that differs from one of keys in ASCII case only, or
// is not ASCII, ends the parse.
func (p *detailParser) object(keys []string, member func(key string) bool) bool {
	p.i = skipSpace(p.b, p.i)
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return false
	}
	p.i = skipSpace(p.b, p.i+1)
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return true
	}
	for {
		raw, ok := p.rawString()
		if !ok || !isASCII(raw) {
			return false
		}
		key := ""
		for _, k := range keys {
			if foldEqual(raw, k) {
				if string(raw) != k {
					return false
				}
				key = k
				break
			}
		}
		p.i = skipSpace(p.b, p.i)
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return false
		}
		p.i = skipSpace(p.b, p.i+1)
		if !member(key) {
			return false
		}
		p.i = skipSpace(p.b, p.i)
		if p.i >= len(p.b) {
			return false
		}
		switch p.b[p.i] {
		case '}':
			p.i++
			return true
		case ',':
			p.i = skipSpace(p.b, p.i+1)
		default:
			return false
		}
	}
}

// rawString reads a string without escapes or control characters, in
// valid UTF-8 (what encoding/json copies as it is).
func (p *detailParser) rawString() ([]byte, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false
	}
	start, ascii := p.i+1, true
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			p.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (p *detailParser) null() bool {
	if hasWord(p.b, p.i, "null") {
		p.i += 4
		return true
	}
	return false
}

// str reads a string into dst; null leaves dst as it is.
func (p *detailParser) str(dst *string) bool {
	if p.null() {
		return true
	}
	s, ok := p.rawString()
	if ok && p.keep {
		*dst = string(s)
	}
	return ok
}

// strPtr reads a string into a new *dst; null sets it to nil.
func (p *detailParser) strPtr(dst **string) bool {
	if p.null() {
		*dst = nil
		return true
	}
	s, ok := p.rawString()
	if ok && p.keep {
		v := string(s)
		*dst = &v
	}
	return ok
}

func (p *detailParser) bool(dst *bool) bool {
	switch {
	case p.null():
	case hasWord(p.b, p.i, "true"):
		*dst, p.i = true, p.i+4
	case hasWord(p.b, p.i, "false"):
		*dst, p.i = false, p.i+5
	default:
		return false
	}
	return true
}

// number reads a JSON number without exponent, of at most 300 characters,
// and reports whether it has a fraction.
func (p *detailParser) number() (text []byte, fraction, ok bool) {
	b, j := p.b, p.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
	default:
		return nil, false, false
	}
	if j < len(b) && b[j] == '.' {
		j++
		digits := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == digits {
			return nil, false, false
		}
		fraction = true
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') || j-p.i > 300 {
		return nil, false, false
	}
	text, p.i = b[p.i:j], j
	return text, fraction, true
}

// int reads an integer into dst (encoding/json's int: a number without
// fraction within 64 bits); null leaves dst as it is.
func (p *detailParser) int(dst *int) bool {
	if p.null() {
		return true
	}
	text, fraction, ok := p.number()
	if !ok || fraction {
		return false
	}
	v, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		return false
	}
	*dst = int(v)
	return true
}

func (p *detailParser) intPtr(dst **int) bool {
	if p.null() {
		*dst = nil
		return true
	}
	if !p.keep {
		var v int
		return p.int(&v)
	}
	v := new(int)
	*dst = v
	return p.int(v)
}

func (p *detailParser) float(dst *float64) bool {
	if p.null() {
		return true
	}
	text, _, ok := p.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return false
	}
	*dst = v
	return true
}

// objectOrNull skips an object or null (gen's *map[string]interface{}).
func (p *detailParser) objectOrNull() bool {
	if p.null() {
		return true
	}
	return p.i < len(p.b) && p.b[p.i] == '{' && p.skip(1)
}

// skip reads any value at nesting depth, whose keys are looked at by
// object with no declared keys (any ASCII key is taken).
func (p *detailParser) skip(depth int) bool {
	if depth > maxDetailDepth || p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(nil, func(string) bool { return p.skip(depth + 1) })
	case c == '[':
		p.i = skipSpace(p.b, p.i+1)
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return true
		}
		for {
			if !p.skip(depth + 1) {
				return false
			}
			p.i = skipSpace(p.b, p.i)
			if p.i >= len(p.b) {
				return false
			}
			if p.b[p.i] == ']' {
				p.i++
				return true
			}
			if p.b[p.i] != ',' {
				return false
			}
			p.i = skipSpace(p.b, p.i+1)
		}
	case c == '"':
		_, ok := p.rawString()
		return ok
	case c == 't':
		return p.word("true")
	case c == 'f':
		return p.word("false")
	case c == 'n':
		return p.null()
	}
	_, _, ok := p.number()
	return ok
}

func (p *detailParser) word(w string) bool {
	if hasWord(p.b, p.i, w) {
		p.i += len(w)
		return true
	}
	return false
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
