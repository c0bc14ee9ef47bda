package phalatest

import "time"

// unchanged reports whether a phase-1 request (no phase-2 hash) asks for
// what the CVM already runs.
func (cl *call) unchanged(same bool) bool {
	return same && cl.r.Header.Get("X-Compose-Hash") == ""
}

// change is what a request asks to change; nil fields are left alone.
type change struct {
	fields      []string
	compose     *string
	preLaunch   *string
	allowedEnvs []string
	hasAllowed  bool
	flags       map[string]bool
	env         map[string]string
	encEnv      string
	vcpu        *int
	memory      *int
	disk        *int
	instance    *string
	osImage     *string
	listed      *bool
	userConfig  *string
	shutdown    *int
	forceStop   *bool
	gpus        *int
	full        map[string]any // a whole new app-compose (provision/commit)
}

func (ch *change) add(field string) { ch.fields = append(ch.fields, field) }

func (ch *change) empty() bool { return len(ch.fields) == 0 }

// onlyCompose reports whether a non-empty change touches the app-compose
// alone (compose file, pre-launch script, allowed env keys, flags), so that
// an unchanged compose hash means nothing changes at all.
func (ch *change) onlyCompose() bool {
	return !ch.empty() && ch.env == nil && ch.vcpu == nil && ch.memory == nil && ch.disk == nil && ch.instance == nil &&
		ch.osImage == nil && ch.listed == nil && ch.userConfig == nil && ch.shutdown == nil && ch.forceStop == nil &&
		ch.gpus == nil && ch.full == nil
}

// gated reports whether the change touches what an on-chain KMS must
// approve: the compose file, the pre-launch script, the allowed env keys,
// or a whole new app-compose. (Visibility flags also change the
// app-compose, but the fake applies them without the two-phase flow, as
// the JS SDK groups them apart and the spec gives /visibility no 465.)
func (ch *change) gated() bool {
	return ch.compose != nil || ch.preLaunch != nil || ch.hasAllowed || ch.full != nil
}

func (ch *change) setFlag(name string, v *bool) {
	if v == nil {
		return
	}
	if ch.flags == nil {
		ch.flags = map[string]bool{}
	}
	ch.flags[name] = *v
	ch.add(name)
}

// composeWith is the app-compose the change would produce.
func (c *cvm) composeWith(ch *change) map[string]any {
	if ch.full != nil {
		return cloneCompose(ch.full)
	}
	ac := cloneCompose(c.appCompose)
	if ch.compose != nil {
		ac["docker_compose_file"] = *ch.compose
	}
	if ch.preLaunch != nil {
		if *ch.preLaunch == "" {
			delete(ac, "pre_launch_script") // empty restores the platform default
		} else {
			ac["pre_launch_script"] = *ch.preLaunch
		}
	}
	if ch.hasAllowed {
		ac["allowed_envs"] = toAny(ch.allowedEnvs)
	}
	for k, v := range ch.flags {
		ac[k] = v
	}
	return ac
}

// apply changes the CVM and starts the "updating" phase; it returns the
// correlation id.
func (cl *call) apply(ch *change, startUpdate bool) string {
	c := cl.cvm
	c.appCompose = c.composeWith(ch)
	if ch.env != nil {
		c.rawEnv, c.encEnv = ch.env, ch.encEnv
	}
	setIf(&c.vcpu, ch.vcpu)
	setIf(&c.memoryMB, ch.memory)
	setIf(&c.diskGB, ch.disk)
	setIf(&c.instance, ch.instance)
	setIf(&c.osImage, ch.osImage)
	setIf(&c.listed, ch.listed)
	setIf(&c.userConfig, ch.userConfig)
	setIf(&c.shutdownSec, ch.shutdown)
	setIf(&c.forceStop, ch.forceStop)
	setIf(&c.gpus, ch.gpus)
	corr := newUUID()
	c.applied = append(c.applied, AppliedChange{Operation: cl.op, CorrelationID: corr, ComposeHash: hashOf(c.appCompose),
		RequestID: cl.reqID, Fields: append([]string(nil), ch.fields...), Time: cl.now})
	cl.applied = true
	if startUpdate {
		c.bootError, c.exitedAt = "", ""
		p := &progress{Target: "running", StartedAt: cl.now.UTC().Format(time.RFC3339Nano), CorrelationID: corr}
		switch lag := cl.s.opts.restartLag; {
		case lag > 0: // the restart begins later (refresh)
			c.restartAt, c.nextProg = cl.now.Add(lag), p
			c.busyUntil = c.restartAt.Add(cl.s.opts.updateDelay)
		case cl.s.opts.updateDelay > 0:
			c.status, c.progress = "updating", p
			c.busyUntil = cl.now.Add(cl.s.opts.updateDelay)
		case c.failBoot != "":
			c.boot(cl.now)
		}
	}
	return corr
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// setField records v as the change of field (dst, named field on the wire)
// when the request set it (v non-nil); a nil v leaves the field alone.
func setField[T any](ch *change, dst **T, v *T, field string) {
	if v != nil {
		*dst = v
		ch.add(field)
	}
}
