// Times updateDockerCompose calls through the official JavaScript SDK
// (@phala/cloud) against a running phala-fake. Part of bench/compare.
//
// Standard input: JSON {"prefix", "api_key", "cvm", "compose", "calls",
// "warmup", "concurrency": [1, 16, ...], "rounds"}.
// Standard output: one JSON object {"seconds": {"1": [s, ...], "16": [...]}},
// the wall time of each round of `calls` calls at each concurrency.
"use strict";
const cloud = require("@phala/cloud");

const cfg = JSON.parse(require("fs").readFileSync(0, "utf8"));
const client = cloud.createClient({ apiKey: cfg.api_key, baseURL: cfg.prefix });

// Every call sends a compose of its own (a numbered comment line): the
// fake answers an unchanged compose with no_change, which is no update.
let seq = 0;

async function one() {
  const r = await cloud.updateDockerCompose(client, { id: cfg.cvm, docker_compose_file: cfg.compose + "# call " + ++seq + "\n" });
  if (r.status !== "in_progress") throw new Error("unexpected answer " + JSON.stringify(r));
}

// run makes `calls` calls with `inflight` of them outstanding at any time.
async function run(calls, inflight) {
  let next = 0;
  async function worker() {
    while (next < calls) {
      next++;
      await one();
    }
  }
  const workers = [];
  for (let i = 0; i < inflight; i++) workers.push(worker());
  await Promise.all(workers);
}

async function main() {
  const seconds = {};
  for (const c of cfg.concurrency) {
    await run(cfg.warmup, c);
    seconds[c] = [];
    for (let r = 0; r < cfg.rounds; r++) {
      const t0 = process.hrtime.bigint();
      await run(cfg.calls, c);
      seconds[c].push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }
  process.stdout.write(JSON.stringify({ seconds }) + "\n");
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
