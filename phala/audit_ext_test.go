package phala_test

import "github.com/phalacloud/go-sdk/phala"

// The phala_test tests hand the suite audit (audit_test.go) what they get
// back, as the internal tests do.

func audited[T any](out T, err error) (T, error) {
	phala.AuditResult(out, err)
	return out, err
}

func auditedErr(err error) error {
	phala.AuditResult(nil, err)
	return err
}

func auditedClient(c *phala.Client, err error) (*phala.Client, error) {
	phala.AuditResult(nil, err)
	if c != nil {
		phala.AuditClient(c)
	}
	return c, err
}

func auditedFake(c *phala.Client) *phala.Client {
	phala.AuditClient(c)
	return c
}

func secretEnvs(envs []phala.EnvVar) []phala.EnvVar {
	phala.AuditEnvs(envs)
	return envs
}

func secretToken(token string) string {
	phala.AuditSecret(token)
	return token
}
