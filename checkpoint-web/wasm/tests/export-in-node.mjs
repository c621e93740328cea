// The scan log's signed export and the officer's test report through the WebAssembly build
// (checkpoint-web/dist/pkg), as the app calls them, printed as one JSON line. Run by
// log_export_in_node.rs:
//
//   node export-in-node.mjs CASE.json
//
// CASE.json: { seed_hex, entries: [fields without hash], split, exported_at, report: {
// pass_sampled_at, now, seen: [text, ...] } }. The entries are chained with chain_link as the
// app chains them; the first `split` are exported from the log's start, the rest since there.
import fs from 'node:fs';
import { initSync, chain_link, device_key, sign_export, test_report } from '../../dist/pkg/checkpoint_wasm.js';

const wasm = fs.readFileSync(new URL('../../dist/pkg/checkpoint_wasm_bg.wasm', import.meta.url));
initSync({ module: wasm });

const c = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const seed = Uint8Array.from(Buffer.from(c.seed_hex, 'hex'));
let prev = '';
const stored = c.entries.map((e) => {
  prev = chain_link(prev, JSON.stringify(e));
  return { ...e, hash: prev };
});
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const refused = (f) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e.code ?? 'UNKNOWN';
  }
};
const first = stored.slice(0, c.split);
const rest = stored.slice(c.split);
const out = {
  device: JSON.parse(device_key(seed)),
  first: hex(sign_export(seed, '', JSON.stringify(first), c.exported_at)),
  rest: hex(sign_export(seed, first.at(-1)?.hash ?? '', JSON.stringify(rest), c.exported_at)),
  // An entry edited after it was chained: not exported.
  edited: refused(() => sign_export(seed, '', JSON.stringify(stored.map((e, i) => (i === 1 ? { ...e, plate: 'X' } : e))), c.exported_at)),
  // The rest joined to the wrong place: not exported.
  wrong_prev: refused(() => sign_export(seed, '', JSON.stringify(rest), c.exported_at)),
  short_seed: refused(() => device_key(seed.slice(1))),
  reports: c.report.seen.map((s) => {
    try {
      return JSON.parse(test_report(s, c.report.pass_sampled_at, c.report.now));
    } catch (e) {
      return { refused: e.code ?? 'UNKNOWN' };
    }
  }),
};
console.log(JSON.stringify(out));
