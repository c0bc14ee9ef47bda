// Makes the page written by `redocly build-docs --inlineBundle` fully self-contained:
// the Redoc bundle still draws its "API docs by Redocly" sidebar logo from Redocly's CDN,
// and the browser asks the server for /favicon.ico. Both would be requests leaving a
// server that serves the page offline (cmd/phala-fake). This rewrites the logo URLs to
// an inline SVG (the attribution stays) and declares an empty inline favicon.
// Usage: node openapi/tools/offline-docs.mjs openapi/dist/index.html
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2];
let html = readFileSync(file, 'utf8');

const logo = (w) =>
  'data:image/svg+xml,' +
  encodeURIComponent(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="16" viewBox="0 0 ${w} 16">` +
      `<text x="0" y="12" font-family="sans-serif" font-size="11" fill="#0044d4">Redocly</text></svg>`,
  );
const replacements = [
  ['https://cdn.redoc.ly/redoc/logo-mini-full.svg', logo(48)],
  ['https://cdn.redoc.ly/redoc/logo-mini.svg', logo(16)],
];
for (const [from, to] of replacements) {
  if (!html.includes(from)) {
    console.error(`offline-docs: ${from} not found: the Redoc bundle changed, review this script`);
    process.exit(1);
  }
  html = html.split(from).join(to);
}
const favicon = '<link rel="icon" href="data:," />';
if (!html.includes(favicon)) {
  if (!html.includes('<head>')) {
    console.error('offline-docs: no <head> in the page');
    process.exit(1);
  }
  html = html.replace('<head>', `<head>\n  ${favicon}`);
}
writeFileSync(file, html);
console.log(`offline-docs: ${file} loads nothing from another host`);
