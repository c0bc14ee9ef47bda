// A small typed client for the ten CVM configuration operations plus getCVMInfo, written
// against the types openapi-typescript generates from openapi/dist/phala-cloud.json.
// It is not shipped: `make spec-generators` (openapi/tools/ts-check.sh) generates
// ./phala-cloud.ts next to a copy of this file in a temporary directory and runs
// `tsc --noEmit --strict` on both, so a change to the published document that breaks a
// TypeScript caller fails the build.
import type { components, operations, paths } from "./phala-cloud";

type Ops = operations;
type Schemas = components["schemas"];

/** The JSON (or other media type) request body of an operation. */
type Body<K extends keyof Ops, CT extends string = "application/json"> = Ops[K] extends {
  requestBody: { content: { [C in CT]: infer B } };
}
  ? B
  : never;

/** The JSON body of an operation's answer with status S. */
type Answer<K extends keyof Ops, S extends number> = Ops[K]["responses"] extends {
  [C in S]: { content: { "application/json": infer R } };
}
  ? R
  : never;

/** The optional header parameters of an operation. */
type Headers<K extends keyof Ops> = NonNullable<Ops[K]["parameters"]["header"]>;

/** Fails to compile when T is never, i.e. when a lookup above found nothing. */
type Present<T> = [T] extends [never] ? { error: "type lookup produced never" } : T;

export type DockerComposeBody = Present<Body<"updateDockerCompose", "text/yaml">>;
export type PreLaunchScriptBody = Present<Body<"updatePreLaunchScript", "text/plain">>;
export type ResourcesBody = Present<Body<"updateCVMResources">>;
export type VisibilityBody = Present<Body<"updateCVMVisibility">>;
export type EnvsBody = Present<Body<"updateCVMEnvs">>;
export type OSImageBody = Present<Body<"updateOSImage">>;
export type PatchBody = Present<Body<"patchCVM">>;
export type ProvisionBody = Present<Body<"provisionCVMComposeFileUpdate">>;
export type CommitBody = Present<Body<"commitCVMComposeFileUpdate">>;

export type Accepted = Present<Answer<"patchCVM", 202>>;
export type VisibilityAnswer = Present<Answer<"updateCVMVisibility", 200>>;
export type EnvsAnswer = Present<Answer<"updateCVMEnvs", 202>>;
export type ProvisionAnswer = Present<Answer<"provisionCVMComposeFileUpdate", 200>>;
export type CVMInfo = Present<Answer<"getCVMInfo", 200>>;
// The detail's shape depends on X-Phala-Version: 2025-10-28 answers the legacy one.
export type CVMInfoDetail = Schemas["CVMInfo"];
export type CVMInfoLegacy = Schemas["CVMInfoLegacy"];
export function isLegacyDetail(info: CVMInfo): info is CVMInfoLegacy {
  return typeof info.id === "number";
}
export type RegistrationRequired = Schemas["ComposePreconditionResponse"];

export type Phase2 = Pick<Headers<"patchCVM">, "X-Compose-Hash" | "X-Transaction-Hash">;

type Path = keyof paths;

export interface ClientOptions {
  /** e.g. https://cloud-api.phala.com/api/v1 */
  baseUrl: string;
  apiKey: string;
  /** X-Phala-Version; the document describes 2026-01-21. */
  apiVersion?: Headers<"getCVMInfo">["X-Phala-Version"];
  fetch?: typeof fetch;
}

/** The first phase of an on-chain KMS change: register compose_hash, then confirm. */
export interface PreconditionRequired {
  status: "precondition_required";
  error: RegistrationRequired;
}

export class PhalaCloudError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`Phala Cloud answered ${status}`);
  }
}

export class Client {
  private readonly doFetch: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.doFetch = opts.fetch ?? fetch;
  }

  private async send<T>(
    method: "GET" | "PATCH" | "POST",
    path: Path,
    cvmId: string,
    body?: { contentType: string; text: string },
    headers: Record<string, string | undefined> = {},
  ): Promise<T | PreconditionRequired> {
    const h: Record<string, string> = {
      "X-API-Key": this.opts.apiKey,
      "X-Phala-Version": this.opts.apiVersion ?? "2026-01-21",
      Accept: "application/json",
    };
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = v;
    if (body) h["Content-Type"] = body.contentType;
    const url = this.opts.baseUrl + path.replace("{cvmId}", encodeURIComponent(cvmId));
    const res = await this.doFetch(url, { method, headers: h, body: body?.text ?? null, redirect: "manual" });
    const text = await res.text();
    const parsed: unknown = text === "" ? undefined : JSON.parse(text);
    if (res.status === 465) {
      return { status: "precondition_required", error: parsed as RegistrationRequired };
    }
    if (res.status < 200 || res.status > 299) throw new PhalaCloudError(res.status, parsed);
    return parsed as T;
  }

  private json<T>(method: "PATCH" | "POST", path: Path, cvmId: string, body: object, headers?: Phase2 & Headers<"patchCVM">) {
    return this.send<T>(method, path, cvmId, { contentType: "application/json", text: JSON.stringify(body) }, headers);
  }

  getCVMInfo(cvmId: string): Promise<CVMInfo | PreconditionRequired> {
    return this.send<CVMInfo>("GET", "/cvms/{cvmId}", cvmId);
  }

  updateDockerCompose(cvmId: string, compose: DockerComposeBody, phase2: Phase2 = {}) {
    return this.send<Accepted>("PATCH", "/cvms/{cvmId}/docker-compose", cvmId, { contentType: "text/yaml", text: compose }, phase2);
  }

  updatePreLaunchScript(cvmId: string, script: PreLaunchScriptBody, phase2: Phase2 = {}) {
    return this.send<Accepted>("PATCH", "/cvms/{cvmId}/pre-launch-script", cvmId, { contentType: "text/plain", text: script }, phase2);
  }

  updateCVMResources(cvmId: string, body: ResourcesBody) {
    return this.json<Accepted>("PATCH", "/cvms/{cvmId}/resources", cvmId, body);
  }

  updateCVMVisibility(cvmId: string, body: VisibilityBody) {
    return this.json<VisibilityAnswer>("PATCH", "/cvms/{cvmId}/visibility", cvmId, body);
  }

  updateCVMEnvs(cvmId: string, body: EnvsBody) {
    return this.json<EnvsAnswer>("PATCH", "/cvms/{cvmId}/envs", cvmId, body);
  }

  updateOSImage(cvmId: string, body: OSImageBody) {
    return this.json<Accepted>("PATCH", "/cvms/{cvmId}/os-image", cvmId, body);
  }

  patchCVM(cvmId: string, body: PatchBody, headers: Headers<"patchCVM"> = {}) {
    return this.json<Accepted>("PATCH", "/cvms/{cvmId}", cvmId, body, headers);
  }

  /** Phase 2 of patchCVM: the hashes go in the headers and, for older servers, in the body. */
  confirmCVMPatch(cvmId: string, composeHash: string, transactionHash: string) {
    const body: PatchBody = { compose_hash: composeHash, transaction_hash: transactionHash };
    return this.patchCVM(cvmId, body, { "X-Compose-Hash": composeHash, "X-Transaction-Hash": transactionHash });
  }

  provisionCVMComposeFileUpdate(cvmId: string, body: ProvisionBody) {
    return this.json<ProvisionAnswer>("POST", "/cvms/{cvmId}/compose_file/provision", cvmId, body);
  }

  commitCVMComposeFileUpdate(cvmId: string, body: CommitBody) {
    return this.json<Accepted>("PATCH", "/cvms/{cvmId}/compose_file", cvmId, body);
  }
}

// Compile-time checks on the generated types: each body as a caller writes it, and
// the mistakes the types must refuse (an unused @ts-expect-error fails the build).
export const samples = {
  resources: { vcpu: 4, memory: 8192, disk_size: 50, allow_restart: true } satisfies ResourcesBody,
  visibility: { public_sysinfo: true, public_logs: false, public_tcbinfo: true } satisfies VisibilityBody,
  envs: { encrypted_env: "00ff", env_keys: ["FOO"], compose_hash: "ab", transaction_hash: "0x01" } satisfies EnvsBody,
  osImage: { os_image_name: "dstack-0.5.4" } satisfies OSImageBody,
  patch: { docker_compose_file: "services: {}\n", public_logs: true, vcpu: 2, allowed_envs: ["FOO"] } satisfies PatchBody,
  provision: { name: "my-app", docker_compose_file: "services: {}\n", allowed_envs: ["FOO"], update_env_vars: true } satisfies ProvisionBody,
  commit: { compose_hash: "ab", encrypted_env: "00ff", env_keys: ["FOO"] } satisfies CommitBody,
};

// @ts-expect-error os_image_name is required
export const missingImage: OSImageBody = {};
// @ts-expect-error encrypted_env is required
export const missingEnv: EnvsBody = { env_keys: ["FOO"] };
// @ts-expect-error compose_hash is required
export const missingHash: CommitBody = { encrypted_env: "00ff" };
// @ts-expect-error public_logs is required next to public_sysinfo
export const halfVisibility: VisibilityBody = { public_sysinfo: true };
// @ts-expect-error name is required in a provisioned app-compose
export const namelessProvision: ProvisionBody = { docker_compose_file: "services: {}\n" };
// @ts-expect-error vcpu is a number
export const stringVcpu: ResourcesBody = { vcpu: "4" };

export async function example(c: Client): Promise<string | undefined> {
  const info = await c.getCVMInfo("my-app");
  if ("error" in info) return undefined;
  const status: string = info.status;
  const pubkey: string | null | undefined = isLegacyDetail(info)
    ? info.encrypted_env_pubkey
    : info.kms_info?.encrypted_env_pubkey;
  const first = await c.patchCVM("my-app", samples.patch);
  if ("error" in first) {
    const hash = first.error.compose_hash ?? "";
    const done = await c.confirmCVMPatch("my-app", hash, "0x01");
    if (!("error" in done)) return done.correlation_id;
  }
  const prov = await c.provisionCVMComposeFileUpdate("my-app", samples.provision);
  if (!("error" in prov)) await c.commitCVMComposeFileUpdate("my-app", { compose_hash: prov.compose_hash });
  return `${status} ${pubkey ?? ""}`;
}
