// Compiles the test contracts with the solc-js pinned in package.json and
// writes artifacts.json: for each contract its ABI and creation bytecode.
// Run through `go generate` in onchain/ (see ../generate.go); the output is
// committed and `make onchain-check-generated` proves it fresh. The EVM
// target is shanghai so that older local chains (ganache 7.9) run it too.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");
const dir = path.dirname(fileURLToPath(import.meta.url));
const sources = {};
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".sol")).sort()) {
  sources[f] = { content: fs.readFileSync(path.join(dir, f), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "shanghai",
    metadata: { bytecodeHash: "none", appendCBOR: false },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
for (const e of out.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);
const artifacts = { compiler: "solc " + solc.version(), contracts: {} };
for (const file of Object.keys(out.contracts).sort()) {
  for (const name of Object.keys(out.contracts[file]).sort()) {
    const c = out.contracts[file][name];
    artifacts.contracts[name] = { source: file, abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
  }
}
// ARTIFACTS_OUT lets the freshness check write elsewhere and leave the tree as it is.
const outFile = process.env.ARTIFACTS_OUT || path.join(dir, "artifacts.json");
fs.writeFileSync(outFile, JSON.stringify(artifacts, null, 2) + "\n");
