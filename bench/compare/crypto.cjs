// Times encryptEnvVars and getComposeHash of the official JavaScript SDK
// (@phala/cloud). Part of bench/compare.
//
// Standard input: JSON {"pubkey": hex, "rounds": R, "cases": [{"name",
// "kind": "encrypt"|"hash", "iters": N, "envs": [{key, value}],
// "compose": "<app-compose JSON text>"}]}.
// Standard output: one JSON object {"cases": [{"name", "seconds": [s, ...],
// "output": the last result (ciphertext hex or hash), and for hashes
// "seconds_text": [s, ...]}]}. "seconds" of a hash case time
// getComposeHash(object) with the compose parsed once, outside the timed
// loop (the SDK's input is an object); "seconds_text" time
// getComposeHash(JSON.parse(text)), which is what phala.ComposeHash does.
"use strict";
const cloud = require("@phala/cloud");

const cfg = JSON.parse(require("fs").readFileSync(0, "utf8"));

async function main() {
  const out = [];
  for (const c of cfg.cases) {
    let fn;
    if (c.kind === "encrypt") {
      fn = () => cloud.encryptEnvVars(c.envs, cfg.pubkey);
    } else {
      const obj = JSON.parse(c.compose);
      fn = async () => cloud.getComposeHash(obj);
    }
    let output;
    for (let i = 0; i < Math.max(1, Math.floor(c.iters / 10)); i++) output = await fn(); // warm-up
    const seconds = [];
    for (let r = 0; r < cfg.rounds; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < c.iters; i++) output = await fn();
      seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    const res = { name: c.name, seconds, output };
    if (c.kind === "hash") {
      const text = () => cloud.getComposeHash(JSON.parse(c.compose));
      for (let i = 0; i < Math.max(1, Math.floor(c.iters / 10)); i++) text();
      res.seconds_text = [];
      for (let r = 0; r < cfg.rounds; r++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < c.iters; i++) output = text();
        res.seconds_text.push(Number(process.hrtime.bigint() - t0) / 1e9);
      }
      if (output !== res.output) throw new Error(c.name + ": hashes of the object and of the text differ");
    }
    out.push(res);
  }
  process.stdout.write(JSON.stringify({ cases: out }) + "\n");
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
