// Makes checkpoint-offline.html in the built app folder: the whole checkpoint app in one file,
// for a checkpoint with no server at all — copied to a laptop or phone and opened from there
// (browsers load neither ES modules, nor WebAssembly files, nor workers, nor a service worker
// from file:// pages). esbuild bundles the app's modules (with wasm-bindgen's glue and
// zxing-wasm's reader) into one classic script; the two WebAssembly modules are embedded as
// base64 (CHECKPOINT_EMBEDDED, read by app.js); the style sheet and icon inline.
//
//   node checkpoint-web/single-file.mjs checkpoint-web/dist     (run by build-checkpoint-web.sh)
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const dist = process.argv[2];
if (!dist) throw new Error('usage: node single-file.mjs DIST');
const read = (f) => fs.readFileSync(path.join(dist, f));

const bundled = await build({
  entryPoints: [path.join(dist, 'app.js')],
  bundle: true,
  format: 'iife',
  minify: true,
  write: false,
  target: ['chrome100', 'safari15', 'firefox110'],
  // The modules ask import.meta.url only for files they would fetch, which the single file
  // hands over as bytes instead; the page's own address is the honest answer.
  define: { 'import.meta.url': 'location.href' },
  logLevel: 'error',
});
const script = bundled.outputFiles[0].text;
const embedded = {
  verifier: read('pkg/checkpoint_wasm_bg.wasm').toString('base64'),
  zxing: read('vendor/zxing/reader/zxing_reader.wasm').toString('base64'),
};
const icon = `data:image/svg+xml;base64,${read('icon.svg').toString('base64')}`;
// Inline <script> text must not contain "</script": escape it where a string could hold it.
const safe = (js) => js.replaceAll('</script', '<\\/script');

let html = read('index.html').toString('utf8');
const replace = (from, to) => {
  if (!html.includes(from)) throw new Error(`index.html no longer has ${from}`);
  html = html.replace(from, () => to);
};
replace('<link rel="manifest" href="manifest.webmanifest">\n', '');
replace('<link rel="icon" href="icon.svg" type="image/svg+xml">', `<link rel="icon" href="${icon}" type="image/svg+xml">`);
replace('<link rel="stylesheet" href="style.css">', `<style>\n${read('style.css')}</style>`);
replace('<script type="module" src="app.js"></script>\n', '');
replace('</body>', `<script>window.CHECKPOINT_EMBEDDED=${JSON.stringify(embedded)};</script>\n<script>${safe(script)}</script>\n</body>`);
const out = path.join(dist, 'checkpoint-offline.html');
fs.writeFileSync(`${out}.tmp`, html);
fs.renameSync(`${out}.tmp`, out);
console.log(`${out}: ${html.length} bytes (script ${script.length}, WebAssembly as base64 ${embedded.verifier.length + embedded.zxing.length})`);
