package phala

import "context"

// UpdateEnvsOptions tune EncryptAndUpdateEnvs.
type UpdateEnvsOptions struct {
	// ComposeHash and TransactionHash complete the on-chain flow: pass the
	// hash of the first call's RequiresOnChainHash result and the
	// registration transaction. Both or neither.
	ComposeHash     string
	TransactionHash string
	// Key tunes how the encryption key is found and verified.
	Key EnvKeyOptions
}

// EncryptAndUpdateEnvs replaces the CVM's environment variables in one call: it
// fetches and checks the encryption key against the KeyAnchor in effect
// (opts.Key.Anchor, opts.Key.ExpectedSigner, else WithKeyAnchor; the rules
// are GetEnvEncryptPublicKey's), encrypts envs, derives EnvKeys from
// them (so that no variable is silently dropped inside the VM for not being
// allowed), and calls UpdateCVMEnvs. The result's EnvKey says which key the
// values were encrypted to, its verified signer and the anchor. On an
// on-chain KMS a change of keys first returns a RequiresOnChainHash result;
// call again with opts.ComposeHash and opts.TransactionHash (and the same
// anchor).
//
// Errors: an ErrInvalidArgument error for an empty or malformed env set
// (see EncryptEnvVars) or malformed options, before any request; the key
// errors of GetEnvEncryptPublicKey (a refused key is an
// ErrKeyVerification error, and then nothing was encrypted and no PATCH
// sent); and UpdateCVMEnvs's errors.
func (c *Client) EncryptAndUpdateEnvs(ctx context.Context, cvmID string, envs []EnvVar, opts *UpdateEnvsOptions) (out *UpdateResult, err error) {
	if ctx, err = c.begin(ctx, envSecrets(envs)...); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &UpdateEnvsOptions{}
	}
	if _, err := checkCVMID(cvmID); err != nil {
		return nil, err
	}
	if err := validateEnvVars(envs); err != nil {
		return nil, err
	}
	if err := checkPhase2("opts.", opts.ComposeHash, opts.TransactionHash); err != nil {
		return nil, err
	}
	key, err := c.envEncryptPublicKey(ctx, cvmID, &opts.Key, "opts.Key.")
	if err != nil {
		return nil, err
	}
	enc, err := EncryptEnvVars(envs, key.PublicKey)
	if err != nil {
		return nil, err
	}
	res, err := c.UpdateCVMEnvs(ctx, cvmID, &UpdateEnvsRequest{EncryptedEnv: enc, EnvKeys: EnvKeys(envs),
		ComposeHash: nonEmpty(opts.ComposeHash), TransactionHash: nonEmpty(opts.TransactionHash)})
	if err != nil {
		return nil, err
	}
	res.EnvKey = key
	return res, nil
}

// envSecrets are the values of envs, scrubbed from every text of the call;
// a value that is also a key of the set is public (keys are not secret).
func envSecrets(envs []EnvVar) []string {
	keys := make(map[string]bool, len(envs))
	for _, e := range envs {
		keys[e.Key] = true
	}
	var out []string
	for _, e := range envs {
		if !keys[e.Value] {
			out = append(out, e.Value)
		}
	}
	return out
}
