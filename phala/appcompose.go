package phala

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strconv"

	"github.com/phalacloud/go-sdk/internal/jsjson"
)

// AppCompose is the app-compose document of a CVM (the reference's
// AppComposeV2): what Phala Cloud stores as app-compose.json and hashes.
//
// Pointer and slice fields are nil when the key is absent, which matters:
// the compose hash covers exactly the keys present. A key present with the
// JSON value null, a known key whose value does not fit the Go type (for
// example manifest_version 2.5, or a string with an unpaired UTF-16
// surrogate escape, which a Go string cannot hold), and every unknown key are kept verbatim in
// Extra, so that unmarshalling and marshalling again preserves the
// document's meaning and therefore its hash (see ComposeHash).
type AppCompose struct {
	// Name of the app; required by the API.
	Name string `json:"name"`
	// Runner is "docker-compose" (the default) or "bash".
	Runner *string `json:"runner,omitempty"`
	// DockerComposeFile is the docker-compose YAML text.
	DockerComposeFile *string `json:"docker_compose_file,omitempty"`
	// PreLaunchScript runs before the app starts. An empty script is
	// dropped by the normalised hash forms.
	PreLaunchScript *string `json:"pre_launch_script,omitempty"`
	// BashScript is the script of the "bash" runner.
	BashScript *string `json:"bash_script,omitempty"`
	// InitScript is an optional init script.
	InitScript *string `json:"init_script,omitempty"`
	// AllowedEnvs lists the env keys the CVM accepts; others are dropped.
	AllowedEnvs []string `json:"allowed_envs,omitempty"`
	// Features, e.g. ["kms", "tproxy-net"].
	Features []string `json:"features,omitempty"`
	// ManifestVersion is 2 for current documents.
	ManifestVersion *int `json:"manifest_version,omitempty"`
	// KMSEnabled turns on the key management service (default true).
	KMSEnabled *bool `json:"kms_enabled,omitempty"`
	// GatewayEnabled exposes the app through the gateway (default true).
	GatewayEnabled *bool `json:"gateway_enabled,omitempty"`
	// TproxyEnabled is the older name of GatewayEnabled.
	TproxyEnabled *bool `json:"tproxy_enabled,omitempty"`
	// LocalKeyProviderEnabled uses a local key provider instead of a KMS.
	LocalKeyProviderEnabled *bool `json:"local_key_provider_enabled,omitempty"`
	// KeyProvider names the key provider kind (e.g. "kms").
	KeyProvider *string `json:"key_provider,omitempty"`
	// KeyProviderID identifies the key provider instance (hex).
	KeyProviderID *string `json:"key_provider_id,omitempty"`
	// PublicLogs makes the container logs public (default true).
	PublicLogs *bool `json:"public_logs,omitempty"`
	// PublicSysinfo makes system information public (default true).
	PublicSysinfo *bool `json:"public_sysinfo,omitempty"`
	// PublicTcbinfo makes the TCB information public (default true).
	PublicTcbinfo *bool `json:"public_tcbinfo,omitempty"`
	// SecureTime waits for a trusted time source at boot.
	SecureTime *bool `json:"secure_time,omitempty"`
	// StorageFS is "zfs" (default) or "ext4".
	StorageFS *string `json:"storage_fs,omitempty"`
	// NoInstanceID makes instances share the app's identity.
	NoInstanceID *bool `json:"no_instance_id,omitempty"`
	// Salt is mixed into the document to make its hash unique.
	Salt *string `json:"salt,omitempty"`
	// DefaultGatewayDomain sets the gateway domain of the app.
	DefaultGatewayDomain *string `json:"default_gateway_domain,omitempty"`

	// Extra holds every other key with its raw JSON value; see the type
	// documentation. A key here that is also a non-nil known field above is
	// ignored when marshalling.
	Extra map[string]json.RawMessage `json:"-"`
}

// appComposeFields maps each known JSON key to a pointer to its field.
func (c *AppCompose) appComposeFields() map[string]any {
	return map[string]any{
		"name":                       &c.Name,
		"runner":                     &c.Runner,
		"docker_compose_file":        &c.DockerComposeFile,
		"pre_launch_script":          &c.PreLaunchScript,
		"bash_script":                &c.BashScript,
		"init_script":                &c.InitScript,
		"allowed_envs":               &c.AllowedEnvs,
		"features":                   &c.Features,
		"manifest_version":           &c.ManifestVersion,
		"kms_enabled":                &c.KMSEnabled,
		"gateway_enabled":            &c.GatewayEnabled,
		"tproxy_enabled":             &c.TproxyEnabled,
		"local_key_provider_enabled": &c.LocalKeyProviderEnabled,
		"key_provider":               &c.KeyProvider,
		"key_provider_id":            &c.KeyProviderID,
		"public_logs":                &c.PublicLogs,
		"public_sysinfo":             &c.PublicSysinfo,
		"public_tcbinfo":             &c.PublicTcbinfo,
		"secure_time":                &c.SecureTime,
		"storage_fs":                 &c.StorageFS,
		"no_instance_id":             &c.NoInstanceID,
		"salt":                       &c.Salt,
		"default_gateway_domain":     &c.DefaultGatewayDomain,
	}
}

// UnmarshalJSON fills the known fields and keeps the rest in Extra. For
// a repeated key the last value wins, as with JSON.parse.
func (c *AppCompose) UnmarshalJSON(data []byte) error {
	raw, err := splitJSONObject(data)
	if err != nil {
		return err
	}
	*c = AppCompose{}
	fields := c.appComposeFields()
	for k, v := range raw {
		if dst, ok := fields[k]; ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null")) && !jsjson.HasLoneSurrogate(v) {
			if err := json.Unmarshal(v, dst); err == nil {
				continue
			}
			// Keep what does not fit the Go type verbatim; reset the field.
			reflect.ValueOf(dst).Elem().SetZero()
		}
		if c.Extra == nil {
			c.Extra = map[string]json.RawMessage{}
		}
		c.Extra[k] = append(json.RawMessage(nil), v...)
	}
	return nil
}

// MarshalJSON writes the known non-nil fields (name always) and Extra.
func (c AppCompose) MarshalJSON() ([]byte, error) {
	fields := c.appComposeFields()
	keys := make([]string, 0, len(fields)+len(c.Extra))
	for k := range fields {
		keys = append(keys, k)
	}
	for k := range c.Extra {
		if _, known := fields[k]; !known {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	emit := func(k string, v []byte) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.Write(jsjson.AppendString(nil, k))
		buf.WriteByte(':')
		buf.Write(v)
	}
	for _, k := range keys {
		dst, known := fields[k]
		if k == "name" {
			if _, inExtra := c.Extra[k]; !inExtra || c.Name != "" {
				emit(k, jsjson.AppendString(nil, c.Name))
				continue
			}
		} else if v := marshalField(dst); known && v != nil {
			emit(k, v)
			continue
		}
		if v, ok := c.Extra[k]; ok {
			if !json.Valid(v) {
				return nil, invalidArg("AppCompose.Extra["+k+"]", "not valid JSON")
			}
			emit(k, v)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// splitJSONObject returns the members of a JSON object with their raw
// values (see jsjson.ObjectMembers), or an error matching
// ErrInvalidArgument.
func splitJSONObject(data []byte) (map[string][]byte, error) {
	m, err := jsjson.ObjectMembers(data)
	if err != nil {
		return nil, invalidArg("AppCompose", "%v", err)
	}
	return m, nil
}

// marshalField returns the JSON of a known field, or nil when it is nil.
func marshalField(p any) []byte {
	switch v := p.(type) {
	case **string:
		if *v != nil {
			return jsjson.AppendString(nil, **v)
		}
	case **bool:
		if *v != nil {
			return strconv.AppendBool(nil, **v)
		}
	case **int:
		if *v != nil {
			return strconv.AppendInt(nil, int64(**v), 10)
		}
	case *[]string:
		if *v != nil {
			b := []byte{'['}
			for i, s := range *v {
				if i > 0 {
					b = append(b, ',')
				}
				b = jsjson.AppendString(b, s)
			}
			return append(b, ']')
		}
	}
	return nil
}
