// Parses a Mermaid diagram with the real Mermaid parser (npm `mermaid`, in a jsdom window):
// exit 0 and the diagram type on success, exit 1 with Mermaid's message otherwise.
// Run from a directory whose node_modules has `mermaid` and `jsdom` (.ci/run installs them).
import fs from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
const text = fs.readFileSync(process.argv[2], 'utf8');
try {
  const result = await mermaid.parse(text);
  console.log(result.diagramType);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
