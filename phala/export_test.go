package phala

// AuditClient and AuditResult hand the suite audit (audit_test.go) a client
// and a call's result from the phala_test tests (audit_ext_test.go).
func AuditClient(c *Client) { suiteAuditor.client(c) }

// AuditResult records a call's result and error; see AuditClient.
func AuditResult(out any, err error) { suiteAuditor.result(out, err) }

// AuditEnvs registers env values handed to a call as secrets.
func AuditEnvs(envs []EnvVar) { suiteAuditor.envs(envs) }

// AuditSecret registers a commit token handed to a call as a secret.
func AuditSecret(v string) { suiteAuditor.secret(v) }
