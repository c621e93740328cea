// Drives the decoder and verifier benchmark in Debian's headless Chromium (playwright-core
// from tests/browser): serves page.html with the app's built files (checkpoint-web/dist),
// rxing-wasm and the images, and prints Markdown tables. Run by scripts/bench-checkpoint-web.sh,
// which prepares everything this reads:
//
//   WORKSPACE   the repository
//   FRAMES      folder of 1280×720 camera-like frames with manifest.tsv (cargo bench corpus
//               --write-frames), the same frames the native pipeline is timed on
//   ROOT, BUNDLE, PASSES, CHECKPOINT, AT   a root.pub, a bundle, a folder of issued passes
//               (each in its own folder with qr.txt), where and when to check
//   RUNS        timing runs per image (median taken), default 3
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();
const WS = env('WORKSPACE');
const { chromium } = await import(path.join(WS, 'tests/browser/node_modules/playwright-core/index.mjs'));
const RUNS = Number(env('RUNS', '3'));
const corpus = path.join(WS, 'verifier/testdata/corpus');
const folders = { 'zxingcpp-qr': path.join(corpus, 'zxingcpp-qr'), 'zxing-qr': path.join(corpus, 'zxing-qr'), dgc: path.join(corpus, 'dgc'), frames: env('FRAMES') };
const mounts = [
  ['/app/', path.join(WS, 'checkpoint-web/dist')],
  ['/rxing/', path.join(WS, 'checkpoint-web/bench/node_modules/rxing-wasm')],
  ...Object.entries(folders).map(([f, dir]) => [`/img/${f}/`, dir]),
  ['/', path.join(WS, 'checkpoint-web/bench')],
];
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png', '.jpg': 'image/jpeg', '.html': 'text/html; charset=utf-8' };

const server = http.createServer((req, res) => {
  const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  for (const [prefix, dir] of mounts) {
    if (!url.startsWith(prefix)) continue;
    const file = path.join(dir, url.slice(prefix.length));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) break;
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
    return;
  }
  res.writeHead(404).end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

/** The manifest's escapes undone, as verifier::decode::corpus::unescape does. */
const unescape = (s) => s.replace(/\\([nrt\\])/g, (_, c) => ({ n: '\n', r: '\r', t: '\t', '\\': '\\' })[c]);

function manifest(folder) {
  const lines = fs.readFileSync(path.join(folders[folder], 'manifest.tsv'), 'utf8').split('\n').slice(1);
  return lines.filter(Boolean).map((l) => l.split('\t')).filter((f) => f[2] === '1').map(([image, expected]) => ({ image, expected: unescape(expected) }));
}

function passTexts() {
  const dir = env('PASSES');
  return fs.readdirSync(dir).map((d) => path.join(dir, d, 'qr.txt')).filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8').trim());
}

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
await page.goto(`${base}/page.html`);
await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 });

const sets = Object.keys(folders).map((folder) => ({ folder, rows: manifest(folder) }));
const decoded = await page.evaluate(([s, r]) => window.runDecoders(s, r), [sets, RUNS]);
const verify = await page.evaluate(
  ([root, bundle, texts, cp, at]) => window.runVerify(root, bundle, texts, cp, at, 2000),
  [fs.readFileSync(env('ROOT'), 'utf8'), [...fs.readFileSync(env('BUNDLE'))], passTexts(), env('CHECKPOINT'), Number(env('AT'))],
);
const version = await browser.version();
await browser.close();
server.close();

const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '—');
console.log(`## In headless Chromium ${version} (page thread, median of ${RUNS} runs per image)\n`);
console.log(`BarcodeDetector: ${decoded.barcodeDetector ? 'present' : 'absent in this browser'}\n`);
console.log('| decoder | folder | images | read | rate % | median ms | p95 ms | max ms |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of decoded.results) {
  console.log(`| ${r.decoder} | ${r.folder} | ${r.images}${r.undecodable ? ` (${r.undecodable} not an image the browser opens)` : ''} | ${r.read} | ${(100 * r.read / Math.max(1, r.images)).toFixed(1)} | ${f2(r.median)} | ${f2(r.p95)} | ${f2(r.max)} |`);
}
console.log(`\nverify of one QR text in WebAssembly (${verify.level}): ${verify.microseconds.toFixed(1)} µs (median of 5 × 2000 calls)\n`);
