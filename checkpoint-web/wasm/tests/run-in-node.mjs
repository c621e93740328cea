// Runs cases through the WebAssembly build of the verifier (checkpoint-web/dist/pkg), as the app
// does, and prints the answers as one JSON line. Run by vectors_in_node.rs:
//
//   node run-in-node.mjs CASES.json
//
// CASES.json: [{ root, allow_dev_keys, installs: [{ bundle_hex, installed }], checks:
// [{ text, checkpoint, now, log }] }]. Each case pins `root`, installs the bundles in order
// (keeping what each accepted one returns, as the app stores it), then checks the texts.
import fs from 'node:fs';
import { initSync, Verifier } from '../../dist/pkg/checkpoint_wasm.js';

const wasm = fs.readFileSync(new URL('../../dist/pkg/checkpoint_wasm_bg.wasm', import.meta.url));
initSync({ module: wasm });

const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = cases.map((c) => {
  let verifier;
  try {
    verifier = new Verifier(c.root, c.allow_dev_keys);
  } catch (e) {
    return { pinned: { refused: e.code ?? 'UNKNOWN', message: e.message } };
  }
  const result = { pinned: { kid: verifier.root_kid }, installs: [], checks: [] };
  for (const i of c.installs) {
    const bytes = Buffer.from(i.bundle_hex, 'hex');
    try {
      const summary = JSON.parse(verifier.install(bytes, JSON.stringify(i.installed ?? null), i.now));
      result.installs.push({ summary });
    } catch (e) {
      result.installs.push({ refused: e.code ?? 'UNKNOWN', message: e.message });
    }
  }
  for (const k of c.checks) {
    result.checks.push(JSON.parse(verifier.verify(k.text, k.checkpoint, k.now, JSON.stringify(k.log ?? null))));
  }
  return result;
});
console.log(JSON.stringify(out));
