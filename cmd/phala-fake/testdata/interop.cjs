// Drives a running phala-fake with the official JavaScript SDK
// (@phala/cloud). Each step must succeed, including the SDK's own zod
// validation of the answers. Prints one JSON line per step ("step") and a
// final {"done": ...} line; exits 1 on the first failure.
//
// Standard input: JSON {"prefix": PHALA_CLOUD_API_PREFIX, "api_key":
// PHALA_CLOUD_API_KEY, "control": PHALA_FAKE_CONTROL_URL}, as phala-fake
// prints them.
"use strict";
const cloud = require("@phala/cloud");
const { verifyEnvEncryptPublicKeyLegacy } = require("@phala/dstack-sdk/verify-env-encrypt-public-key");

const config = JSON.parse(require("fs").readFileSync(0, "utf8"));
const prefix = config.prefix;
const apiKey = config.api_key;
const control = config.control;

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

async function fake(method, path, body) {
  const res = await fetch(control + path, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}`);
  return res.json();
}

async function step(name, fn) {
  try {
    const result = await fn();
    out({ step: name, ok: true, result });
    return result;
  } catch (err) {
    const detail = err && (err.issues || err.detail || err.data);
    out({ step: name, ok: false, error: String(err && err.message ? err.message : err), detail: detail === undefined ? null : detail });
    process.exit(1);
  }
}

const hexToBytes = (h) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ""), "hex"));

async function main() {
  const client = cloud.createClient({ apiKey, baseURL: prefix });

  async function waitRunning(id) {
    for (let i = 0; i < 200; i++) {
      const info = await cloud.getCvmInfo(client, { id });
      if (info.status === "running") return info;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("CVM " + id + " did not return to running");
  }

  // ---- central KMS CVM ----
  const central = await step("getCvmInfo(central)", async () => {
    const info = await cloud.getCvmInfo(client, { id: "central-app" });
    check(info.kms_info && info.kms_info.chain_id === null, "central kms_info.chain_id is null");
    check(typeof info.kms_info.encrypted_env_pubkey === "string", "central encrypted_env_pubkey is set");
    return { id: info.id, app_id: info.app_id, vm_uuid: info.vm_uuid, instance_id: info.instance_id,
      pubkey: info.kms_info.encrypted_env_pubkey, compose_hash: info.compose_hash, status: info.status };
  });

  await step("updateDockerCompose(central)", async () => {
    const r = await cloud.updateDockerCompose(client, { id: central.id,
      docker_compose_file: "services:\n  web:\n    image: nginx:1.27-js\n" });
    check(r.status === "in_progress" && r.correlation_id, "in_progress with a correlation id");
    await waitRunning(central.id);
    return r;
  });

  await step("updatePreLaunchScript(central, by uuid)", async () => {
    const r = await cloud.updatePreLaunchScript(client, { uuid: central.vm_uuid,
      pre_launch_script: "#!/bin/sh\necho from-js\n" });
    check(r.status === "in_progress", "in_progress");
    await waitRunning(central.id);
    return r;
  });

  await step("updateCvmEnvs(central, by app id)", async () => {
    const encrypted = await cloud.encryptEnvVars(
      [{ key: "FOO", value: "js-foo" }, { key: "API_TOKEN", value: "js-token" }, { key: "NOT_ALLOWED", value: "x" }],
      central.pubkey);
    const r = await cloud.updateCvmEnvs(client, { app_id: central.app_id, encrypted_env: encrypted, env_keys: ["FOO", "API_TOKEN"] });
    check(r.status === "in_progress" && r.allowed_envs_changed === false, "in_progress, allowed envs unchanged");
    await waitRunning(central.id);
    return r;
  });

  await step("updateCvmResources(central)", async () => {
    const r = await cloud.updateCvmResources(client, { id: central.id, vcpu: 4, memory: 8192, disk_size: 80 });
    await waitRunning(central.id);
    return r === undefined ? null : r;
  });

  await step("updateCvmVisibility(central)", async () => {
    const vm = await cloud.updateCvmVisibility(client, { id: central.id, public_sysinfo: false, public_logs: true, public_tcbinfo: true });
    check(vm.public_sysinfo === false && vm.public_logs === true, "flags echoed");
    return { id: vm.id, name: vm.name, public_sysinfo: vm.public_sysinfo, public_logs: vm.public_logs };
  });

  await step("updateOsImage(central)", async () => {
    await cloud.updateOsImage(client, { id: central.id, os_image_name: "dstack-0.5.4" });
    await waitRunning(central.id);
    return null;
  });

  await step("provision+commit compose file (central)", async () => {
    const current = await cloud.getCvmComposeFile(client, { id: central.id });
    const before = await cloud.getCvmInfo(client, { id: central.id });
    check(current.getHash() === before.compose_hash, "the JS SDK's getHash() of the compose file is the CVM's compose hash");
    const appCompose = JSON.parse(JSON.stringify(current));
    appCompose.docker_compose_file = "services:\n  web:\n    image: nginx:1.28-provisioned\n";
    const p = await cloud.provisionCvmComposeFileUpdate(client, { id: central.id, app_compose: appCompose });
    check(typeof p.compose_hash === "string" && p.compose_hash.length === 64, "a compose hash");
    await cloud.commitCvmComposeFileUpdate(client, { id: central.id, compose_hash: p.compose_hash });
    const info = await waitRunning(central.id);
    check(info.compose_hash === p.compose_hash, "the CVM now has the provisioned hash");
    return { compose_hash: p.compose_hash };
  });

  // ---- on-chain KMS CVM ----
  const onchain = await step("getCvmInfo(onchain)", async () => {
    const info = await cloud.getCvmInfo(client, { id: "onchain-app" });
    check(info.kms_info && info.kms_info.chain_id === 8453, "on-chain kms_info.chain_id is 8453");
    const cvms = await fake("GET", "/cvms");
    const seed = cvms.find((c) => c.name === "onchain-app");
    return { id: info.id, app_id: info.app_id, kms: seed.kms_id };
  });

  const onchainPub = await step("getAppEnvEncryptPubKey + verify signature", async () => {
    const r = await cloud.getAppEnvEncryptPubKey(client, { kms: onchain.kms, app_id: onchain.app_id });
    const signer = verifyEnvEncryptPublicKeyLegacy(hexToBytes(r.public_key), hexToBytes(r.signature), onchain.app_id);
    const want = (await fake("GET", "/kms-signer")).signer;
    check(signer === want, `recovered signer ${signer} is the fake's KMS key ${want}`);
    return { public_key: r.public_key, signer };
  });

  await step("patchCvm precondition + confirmCvmPatch (onchain)", async () => {
    const p1 = await cloud.patchCvm(client, { id: onchain.id, docker_compose_file: "services:\n  web:\n    image: nginx:1.27-patched\n", vcpu: 3 });
    check(p1.requiresOnChainHash === true && p1.composeHash && p1.appId === onchain.app_id, "465 as a result");
    const reg = await fake("POST", "/register-compose-hash", { cvm_id: onchain.id, compose_hash: p1.composeHash });
    const c = await cloud.confirmCvmPatch(client, { id: onchain.id, composeHash: p1.composeHash, transactionHash: reg.transaction_hash });
    check(typeof c.correlationId === "string" && c.correlationId.length > 0, "a correlation id");
    const info = await waitRunning(onchain.id);
    check(info.compose_hash === p1.composeHash, "the CVM now has the confirmed hash");
    return { compose_hash: p1.composeHash, correlation_id: c.correlationId };
  });

  await step("patchCvm prepareOnly (onchain)", async () => {
    const p = await cloud.patchCvm(client, { id: onchain.id, pre_launch_script: "#!/bin/sh\necho multisig\n", prepareOnly: true });
    check(p.requiresOnChainHash === true && typeof p.commitToken === "string" && p.onchainStatus, "commit token and on-chain status");
    return { compose_hash: p.composeHash, has_commit_token: true, onchain_status: p.onchainStatus };
  });

  await step("updateDockerCompose two phases (onchain)", async () => {
    const compose = "services:\n  web:\n    image: nginx:1.29-onchain\n";
    const p1 = await cloud.updateDockerCompose(client, { id: onchain.id, docker_compose_file: compose });
    check(p1.status === "precondition_required" && p1.kms_info && p1.kms_info.chain_id === 8453, "precondition_required");
    const reg = await fake("POST", "/register-compose-hash", { cvm_id: onchain.id, compose_hash: p1.compose_hash });
    const p2 = await cloud.updateDockerCompose(client, { id: onchain.id, docker_compose_file: compose,
      compose_hash: p1.compose_hash, transaction_hash: reg.transaction_hash });
    check(p2.status === "in_progress", "phase 2 accepted");
    await waitRunning(onchain.id);
    return { compose_hash: p1.compose_hash };
  });

  await step("updateCvmEnvs two phases (onchain)", async () => {
    const enc = await cloud.encryptEnvVars([{ key: "FOO", value: "chain-foo" }, { key: "BAR", value: "chain-bar" }], onchainPub.public_key);
    const p1 = await cloud.updateCvmEnvs(client, { id: onchain.id, encrypted_env: enc, env_keys: ["FOO", "BAR"] });
    check(p1.status === "precondition_required", "precondition_required");
    const reg = await fake("POST", "/register-compose-hash", { cvm_id: onchain.id, compose_hash: p1.compose_hash });
    const p2 = await cloud.updateCvmEnvs(client, { id: onchain.id, encrypted_env: enc, env_keys: ["FOO", "BAR"],
      compose_hash: p1.compose_hash, transaction_hash: reg.transaction_hash });
    check(p2.status === "in_progress" && p2.allowed_envs_changed === true, "phase 2 accepted, allowed envs changed");
    await waitRunning(onchain.id);
    return { compose_hash: p1.compose_hash };
  });

  out({ done: true, central: central.id, onchain: onchain.id });
}

main().catch((err) => {
  out({ step: "main", ok: false, error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
