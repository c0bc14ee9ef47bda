// Reads a `redocly lint --format=json` report on stdin and fails (exit 1) when it holds
// any error or any warning. Warnings that are accepted must be switched off, with a
// reason, in openapi/redocly.yaml; this gate does not know of exceptions of its own.
import { readFileSync } from 'node:fs';

const text = readFileSync(0, 'utf8');
let report;
try {
  report = JSON.parse(text.slice(text.indexOf('{')));
} catch (err) {
  console.error('lint-gate: could not parse the redocly JSON report:', err.message);
  console.error(text.slice(0, 2000));
  process.exit(2);
}
const problems = report.problems ?? [];
for (const p of problems) {
  const where = (p.location ?? []).map((l) => `${l.source?.ref ?? ''}${l.pointer ?? ''}`).join(', ');
  console.error(`${p.severity}: [${p.ruleId}] ${p.message} at ${where}`);
}
const t = report.totals ?? {};
console.log(`redocly lint: ${t.errors ?? 0} error(s), ${t.warnings ?? 0} warning(s), ${t.ignored ?? 0} ignored`);
if ((t.errors ?? 0) > 0 || (t.warnings ?? 0) > 0 || problems.some((p) => p.severity !== 'off')) {
  console.error('lint-gate: failing: fix the spec, or switch the rule off with a reason in openapi/redocly.yaml');
  process.exit(1);
}
