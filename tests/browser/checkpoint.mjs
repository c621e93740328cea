// The checkpoint web app in a real browser: Debian's headless Chromium driven by
// playwright-core, against `issuer serve --checkpoint-app checkpoint-web/dist`.
//
// Run by issuer/tests/checkpoint_web.rs with files the issuer made. By hand:
//
//   BASE_URL=http://127.0.0.1:8080 ROOT=root.pub BUNDLE1=b1.cose BUNDLE2=b2.cose \
//   QR_PNG=qr.png QR_TEXT_2=... CHECKPOINT=C101 NOW=1647129600 OUT_DIR=/tmp/out \
//   node tests/browser/checkpoint.mjs
//
// On a phone-sized window, as an officer would: open /checkpoint/ (Chinese), pin the root key
// from its file (its key id shown), install the bundle from its file, pick the checkpoint
// from the bundle's registry, type the officer ID; choose the pass's QR PNG → 通过 with the
// plate and the route with this checkpoint marked. Then the network goes off and the page is
// reloaded: the app starts from its service worker's cache and verifies a second pass typed
// into the scanner field → 通过, and the first pass again → 注意 (a repeat scan: the log
// survived the reload). A newer bundle revoking the first pass → 拒绝 (REVOKED); the older
// bundle again → refused as a rollback; another city's bundle → refused. English switch: PASS/REFUSE words and English reasons.
// The device key's public file downloaded, and the log exported signed (all four scans). Later
// the same day (LATER) the second pass's test is too old → 注意 (TEST_TOO_OLD); the officer
// records the newer report the driver shows: a time in the future and one not newer than the
// pass's test are refused, a good one is recorded and the panel says so (still 注意); the
// export since the last one holds that scan and the report. The Rust test opens both files
// (device.pub, export-1.cose, export-2.cose in OUT_DIR) with checkpass::logfile.
// The log's hash chain: intact, then an entry edited in the browser's storage → broken there.
// A new version of the app served: installed online, the old cache gone, nothing lost.
//
// Then a checkpoint laptop with a webcam (a desktop-sized window, a second browser whose fake
// camera plays CAMERA_VIDEO, a photographed pass sheet): the root key offered by the service
// shown by its key id and pinned on a tap, bundle 1 from its file, start the camera → 通过 for
// the pass in view, with the time from camera start to ready and from the frame to the
// verdict on screen; the newest bundle fetched from the service (bundle 2, which revokes the
// pass) → the pass still in view → 拒绝. Last, the single-file app copied to a folder and
// opened from there (file://, no server): set up from files, the camera and the scanner → 通过,
// its own device key and signed export downloaded (offline-device.pub, offline-export.cose).
//
// Environment: BASE_URL, ROOT, BUNDLE1, BUNDLE2, BUNDLE_OTHER (another root's), QR_PNG (pass 1), QR_TEXT_1, QR_TEXT_2,
// LATER (unix seconds: pass 2's test too old, the pass still valid), REPORT_OK, REPORT_FUTURE,
// REPORT_OLD (datetime-local values, UTC+8), REPORT_OK_CST (REPORT_OK as the app shows it),
// CAMERA_VIDEO (a .y4m of pass 1), OFFLINE_HTML (file:// URL of the single-file app, copied), PLATE_1, PLATE_2, CHECKPOINT (on both passes' routes), NOW (unix seconds: the simulated
// clock), ROOT_KID, OUT_DIR (screenshots, and the page when a step fails), CHROMIUM.
// Prints `RESULT {json}` last and exits 0 when every check passed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`environment variable ${name} is not set`);
  return v;
};
const BASE = env('BASE_URL').replace(/\/$/, '');
const OUT = env('OUT_DIR');
fs.mkdirSync(OUT, { recursive: true });
let step = 'start';
setTimeout(() => {
  console.error(`FAILED: still running after 3 minutes, at step “${step}”`);
  process.exit(1);
}, 180_000).unref();

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
});
context.setDefaultTimeout(30_000);
let page = await context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
// With the network off, the browser's own update check of the service worker fails and says so
// on the console; that is expected then, and only then.
let offline = false;
page.on('console', (m) => {
  if (m.type() !== 'error') return;
  if (offline && m.text().includes('net::ERR_FAILED')) console.error(`(offline, expected) ${m.text()}`);
  else problems.push(`console: ${m.text()}`);
});
// Nothing may be fetched from anywhere but the service (no CDN).
const foreign = [];
page.on('request', (r) => {
  if (!r.url().startsWith(BASE) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreign.push(r.url());
});

const times = {};
async function run(name, f) {
  step = name;
  const t0 = Date.now();
  try {
    await f();
  } catch (e) {
    await page.screenshot({ path: path.join(OUT, 'failure.png'), fullPage: true }).catch(() => {});
    console.error(`FAILED at “${name}”: ${e.stack ?? e}\n${problems.join('\n')}`);
    await browser.close();
    process.exit(1);
  }
  times[name] = Date.now() - t0;
  console.error(`ok ${name} (${times[name]} ms)`);
}

const url = `${BASE}/checkpoint/?now=${env('NOW')}`;
const verdict = () => page.locator('#verdict');
async function expectVerdict(level, word) {
  await page.waitForFunction((l) => document.querySelector('#verdict').dataset.level === l, level);
  assert.equal((await page.locator('#verdict-word').textContent()).trim(), word);
}
async function scanText(text) {
  // A keyboard-wedge scanner types the text and presses Enter.
  await page.locator('#qr-text').fill('');
  await page.locator('#verdict').evaluate((e) => { e.dataset.level = ''; });
  await page.locator('#qr-text').pressSequentially(text, { delay: 0 });
  await page.locator('#qr-text').press('Enter');
}
const reasonCodes = () => page.locator('#verdict-body li').evaluateAll((li) => li.map((l) => l.dataset.code));

const result = {};
await run('open the app', async () => {
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  assert.equal((await page.locator('h1').textContent()).trim(), '检查站核验');
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
});

await run('pin the root key from its file', async () => {
  await page.locator('#root-file').setInputFiles(env('ROOT'));
  await page.waitForFunction(() => document.querySelector('#root-kid').textContent !== '—');
  assert.equal(await page.locator('#root-kid').textContent(), env('ROOT_KID'));
});

await run('install the bundle and set up the checkpoint', async () => {
  await page.locator('#bundle-file').setInputFiles(env('BUNDLE1'));
  await page.waitForFunction(() => document.querySelector('#bundle-info').textContent.includes('序号 1'));
  assert.ok(await page.locator('#bundle-error').isHidden());
  await page.locator('#checkpoint').selectOption(env('CHECKPOINT'));
  await page.locator('#officer').fill('E2E-007');
  await page.locator('#officer').dispatchEvent('change');
});

await run('a pass from its QR image: 通过', async () => {
  await page.locator('#qr-image').setInputFiles(env('QR_PNG'));
  await expectVerdict('green', '通过');
  assert.equal((await page.locator('.facts .plate').textContent()).trim(), env('PLATE_1'));
  const here = await page.locator('.route .here').textContent();
  assert.ok(here.startsWith(env('CHECKPOINT')), here);
  await page.screenshot({ path: path.join(OUT, 'checkpoint-green.png') });
});

await run('offline: reload from the cache and verify from the text field', async () => {
  offline = true;
  await context.setOffline(true);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  assert.equal(await page.locator('#root-kid').textContent(), env('ROOT_KID'));
  assert.equal(await page.locator('#checkpoint').inputValue(), env('CHECKPOINT'));
  assert.match(await page.locator('#status').textContent(), /可离线使用/);
  await scanText(env('QR_TEXT_2'));
  await expectVerdict('green', '通过');
  assert.equal((await page.locator('.facts .plate').textContent()).trim(), env('PLATE_2'));
  await scanText(env('QR_TEXT_1'));
  await expectVerdict('amber', '注意');
  assert.deepEqual(await reasonCodes(), ['REPEAT_SCAN']);
  await page.screenshot({ path: path.join(OUT, 'checkpoint-amber.png') });
});

await run('a newer bundle revokes the first pass: 拒绝', async () => {
  await page.locator('#bundle-file').setInputFiles(env('BUNDLE2'));
  await page.waitForFunction(() => document.querySelector('#bundle-info').textContent.includes('序号 2'));
  await scanText(env('QR_TEXT_1'));
  await expectVerdict('red', '拒绝');
  assert.ok((await reasonCodes()).includes('REVOKED'));
  assert.ok((await page.locator('#verdict-body').textContent()).includes('通行证已被撤销'));
  await page.screenshot({ path: path.join(OUT, 'checkpoint-red.png') });
});

await run('the older bundle again: refused as a rollback', async () => {
  await page.locator('#bundle-file').setInputFiles(env('BUNDLE1'));
  await page.locator('#bundle-error').waitFor({ state: 'visible' });
  assert.match(await page.locator('#bundle-error').textContent(), /信任包版本过旧/);
  assert.match(await page.locator('#bundle-info').textContent(), /序号 2/);
});

await run("another city's bundle: refused, the installed one stays", async () => {
  await page.locator('#bundle-file').setInputFiles(env('BUNDLE_OTHER'));
  await page.waitForFunction(() => /根密钥/.test(document.querySelector('#bundle-error').textContent));
  assert.match(await page.locator('#bundle-error').textContent(), /不是由已固定的根密钥签发/);
  assert.match(await page.locator('#bundle-info').textContent(), /序号 2/);
});

await run('English', async () => {
  await page.locator('#lang').click();
  await page.waitForFunction(() => document.querySelector('#verdict-word').textContent.trim() === 'REFUSE');
  assert.ok((await page.locator('#verdict-body').textContent()).includes('The pass has been revoked'));
  const rows = await page.locator('#log-rows tr').count();
  assert.equal(rows, 4, 'four scans in the log');
});

/** Clicks `button` and saves the file it downloads as OUT/`name`; gives the browser's name. */
async function saveDownload(button, name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(button).click()]);
  await download.saveAs(path.join(OUT, name));
  return download.suggestedFilename();
}

await run('the device key and the signed log, offline', async () => {
  const kid = (await page.locator('#device-kid').textContent()).trim();
  assert.match(kid, /^[0-9a-f]{8}$/);
  assert.match(await page.locator('#device-public').textContent(), /^[0-9a-f]{64}$/);
  assert.equal(await saveDownload('#device-download', 'device.pub'), `device-${kid}.pub`);
  result.device_kid = kid;
  assert.equal(await page.locator('#export-range').inputValue(), 'since');
  const name = await saveDownload('#export-signed', 'export-1.cose');
  assert.match(name, new RegExp(`^scanlog-${kid}-\\d{8}T\\d{6}Z\\.cose$`));
  await page.waitForFunction(() => document.querySelector('#export-info').dataset.state === 'ok');
  assert.equal(await page.locator('#export-info').getAttribute('data-entries'), '4');
  assert.match(await page.locator('#export-info').textContent(), /Signed log exported: 4 entries/);
});

await run('a test too old: 注意; the officer records the newer report he saw', async () => {
  await page.locator('#lang').click();
  await page.waitForFunction(() => document.querySelector('#lang').textContent === 'English');
  // Later that day: the app from its cache again, on the simulated clock's later time.
  await page.goto(`${BASE}/checkpoint/?now=${env('LATER')}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  await scanText(env('QR_TEXT_2'));
  await expectVerdict('amber', '注意');
  assert.deepEqual(await reasonCodes(), ['TEST_TOO_OLD']);
  const form = page.locator('#report-form');
  assert.match(await form.textContent(), /记录所见新核酸报告/);
  const tryTime = async (value) => {
    await page.locator('#report-time').fill(value);
    await page.locator('#report-record').click();
  };
  await tryTime(env('REPORT_FUTURE'));
  await page.locator('#report-error').waitFor({ state: 'visible' });
  assert.match(await page.locator('#report-error').textContent(), /未记录.*晚于当前时间/);
  await tryTime(env('REPORT_OLD'));
  await page.waitForFunction(() => /不晚于/.test(document.querySelector('#report-error').textContent));
  await page.screenshot({ path: path.join(OUT, 'checkpoint-report-refused.png') });
  await tryTime(env('REPORT_OK'));
  await page.locator('#report-recorded').waitFor();
  assert.equal((await page.locator('#report-recorded').textContent()).trim(), `已记录民警所见核酸报告：采样 ${env('REPORT_OK_CST')}`);
  // The officer decides; the verdict stays what the verifier said.
  assert.equal(await verdict().getAttribute('data-level'), 'amber');
  assert.equal((await page.locator('#verdict-word').textContent()).trim(), '注意');
  assert.equal(await page.locator('#report-form').count(), 0);
  await page.screenshot({ path: path.join(OUT, 'checkpoint-report-recorded.png') });
  const row = page.locator('#log-rows tr.test-report');
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), new RegExp(`记录核酸报告采样 ${env('REPORT_OK_CST')}`));
  // English: the same record in English words.
  await page.locator('#lang').click();
  await page.waitForFunction(() => document.querySelector('#verdict-word').textContent.trim() === 'CHECK');
  assert.equal((await page.locator('#report-recorded').textContent()).trim(), `Recorded: the officer saw a test report sampled ${env('REPORT_OK_CST')}`);
  assert.match(await row.textContent(), /Test report recorded/);
});

await run('the signed export since the last one: the scan and the recorded report', async () => {
  const name = await saveDownload('#export-signed', 'export-2.cose');
  assert.match(name, /\.cose$/);
  await page.waitForFunction(() => document.querySelector('#export-info').dataset.state === 'ok');
  assert.equal(await page.locator('#export-info').getAttribute('data-entries'), '2');
  // The CSV shows the report too (kind and note columns).
  await saveDownload('#export', 'scans.csv');
  // Back to the day's first clock for the steps that follow.
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
});

await run('the log is a hash chain: intact, then an edited entry is found', async () => {
  await page.locator('#verify-chain').click();
  await page.waitForFunction(() => document.querySelector('#chain-info').dataset.state === 'ok');
  assert.match(await page.locator('#chain-info').textContent(), /Log chain intact: 6 entries · [0-9a-f]{16}/);
  // Someone with the phone edits the second scan's plate in the browser's storage.
  await page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('checkpoint');
    r.onsuccess = () => {
      const tx = r.result.transaction('scans', 'readwrite');
      const scans = tx.objectStore('scans');
      scans.get(2).onsuccess = (e) => scans.put({ ...e.target.result, plate: '鲁K99999' });
      tx.oncomplete = () => { r.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }));
  await page.locator('#verify-chain').click();
  await page.waitForFunction(() => document.querySelector('#chain-info').dataset.state === 'broken');
  assert.match(await page.locator('#chain-info').textContent(), /entry 2/);
});

await context.setOffline(false);
offline = false;

await run('a new version of the app, picked up online, keeps the root, settings and log', async () => {
  // The service now serves another build: the same files under a new version (the build
  // stamps sw.js with a hash of the app's files).
  const served = await (await page.request.get(`${BASE}/checkpoint/sw.js`)).text();
  const old = served.match(/const VERSION = '([0-9a-f]+)'/)[1];
  const next = served.replace(old, 'f'.repeat(old.length));
  await page.route('**/checkpoint/sw.js', (route) => route.fulfill({ contentType: 'text/javascript', body: next }));
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    await registration.update();
  });
  await page.waitForFunction(async (v) => (await caches.keys()).join() === `checkpoint-${v}`, 'f'.repeat(old.length));
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  assert.equal(await page.locator('#root-kid').textContent(), env('ROOT_KID'));
  assert.equal(await page.locator('#checkpoint').inputValue(), env('CHECKPOINT'));
  assert.equal(await page.locator('#officer').inputValue(), 'E2E-007');
  assert.match(await page.locator('#bundle-info').textContent(), /sequence 2/);
  assert.equal(await page.locator('#log-rows tr').count(), 6);
  await page.unroute('**/checkpoint/sw.js');
});

assert.deepEqual(foreign, [], 'requests outside the service');
assert.deepEqual(problems, []);
await browser.close();

// A checkpoint laptop with a webcam.
const cameraBrowser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${env('CAMERA_VIDEO')}`],
});
const desk = await cameraBrowser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
desk.setDefaultTimeout(30_000);
await desk.grantPermissions(['camera'], { origin: BASE });
page = await desk.newPage();
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));

await run('desktop: the root key offered by the service, compared and pinned', async () => {
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  await page.locator('#root-offer').waitFor({ state: 'visible' });
  assert.equal(await page.locator('#offered-kid').textContent(), env('ROOT_KID'));
  assert.equal(await page.locator('#root-kid').textContent(), '—', 'not pinned before the tap');
  await page.locator('#pin-offered').click();
  await page.waitForFunction(() => document.querySelector('#root-kid').textContent !== '—');
  assert.equal(await page.locator('#root-kid').textContent(), env('ROOT_KID'));
  assert.ok(await page.locator('#root-offer').isHidden());
  await page.locator('#bundle-file').setInputFiles(env('BUNDLE1'));
  await page.waitForFunction(() => document.querySelector('#bundle-info').textContent.includes('序号 1'));
  await page.locator('#checkpoint').selectOption(env('CHECKPOINT'));
  await page.locator('#officer').fill('E2E-008');
  await page.locator('#officer').dispatchEvent('change');
});

await run('the camera sees a photographed pass sheet: 通过', async () => {
  await page.locator('#camera-toggle').click();
  await page.waitForFunction(() => document.querySelector('#camera-status').textContent.includes('摄像头已就绪'));
  assert.equal((await page.locator('#camera-toggle').textContent()).trim(), '关闭摄像头');
  await expectVerdict('green', '通过');
  assert.equal((await page.locator('.facts .plate').textContent()).trim(), env('PLATE_1'));
  assert.match(await page.locator('#countdown').textContent(), /秒后继续扫码/);
  await page.screenshot({ path: path.join(OUT, 'checkpoint-desktop-camera-green.png') });
  result.camera = await page.evaluate(() => ({
    app_ready_ms: performance.getEntriesByName('app-ready')[0]?.startTime,
    ready_ms: performance.getEntriesByName('camera-ready')[0]?.duration,
    frame_to_verdict_ms: performance.getEntriesByName('frame-to-verdict').map((m) => m.duration),
  }));
  assert.ok(result.camera.frame_to_verdict_ms.length >= 1, 'the frame-to-verdict time was measured');
});

await run('the newest bundle from the service revokes the pass still in view: 拒绝', async () => {
  await page.locator('#bundle-fetch').click();
  await page.waitForFunction(() => document.querySelector('#bundle-info').textContent.includes('序号 2'));
  assert.equal((await page.locator('#fetch-info').textContent()).trim(), '已从服务器安装信任包');
  await expectVerdict('red', '拒绝');
  assert.ok((await reasonCodes()).includes('REVOKED'));
  await page.screenshot({ path: path.join(OUT, 'checkpoint-desktop-camera-red.png') });
  const logged = await page.locator('#log-rows tr').count();
  assert.equal(logged, 2, 'held in view, the pass was checked once per bundle');
});

await run('the camera off', async () => {
  await page.locator('#camera-toggle').click();
  await page.waitForFunction(() => document.querySelector('#camera').hidden);
  assert.equal((await page.locator('#camera-toggle').textContent()).trim(), '打开摄像头');
});

// A checkpoint with no server: the single file, copied to a folder and opened from there.
const fileContext = await cameraBrowser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' });
fileContext.setDefaultTimeout(30_000);
page = await fileContext.newPage();
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
const fileRequests = [];
page.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && !r.url().startsWith('blob:') && fileRequests.push(r.url()));

await run('the single file from a folder (file://): set up, the camera → 通过, the scanner → 通过, the signed log', async () => {
  await page.goto(`${env('OFFLINE_HTML')}?now=${env('NOW')}`);
  await page.waitForFunction(() => document.body.dataset.ready, null);
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', await page.locator('#app-error').textContent());
  assert.ok(await page.locator('#single-file').isHidden());
  await page.locator('#root-file').setInputFiles(env('ROOT'));
  await page.waitForFunction(() => document.querySelector('#root-kid').textContent !== '—');
  assert.equal(await page.locator('#root-kid').textContent(), env('ROOT_KID'));
  await page.locator('#bundle-file').setInputFiles(env('BUNDLE1'));
  await page.waitForFunction(() => document.querySelector('#bundle-info').textContent.includes('序号 1'));
  await page.locator('#checkpoint').selectOption(env('CHECKPOINT'));
  await page.locator('#camera-toggle').click();
  await expectVerdict('green', '通过');
  assert.equal((await page.locator('.facts .plate').textContent()).trim(), env('PLATE_1'));
  await page.locator('#camera-toggle').click();
  await scanText(env('QR_TEXT_2'));
  await expectVerdict('green', '通过');
  assert.equal((await page.locator('.facts .plate').textContent()).trim(), env('PLATE_2'));
  assert.equal(await page.locator('#log-rows tr').count(), 2);
  // Its own device key, and the signed log from the file too.
  const kid = (await page.locator('#device-kid').textContent()).trim();
  assert.match(kid, /^[0-9a-f]{8}$/);
  assert.notEqual(kid, result.device_kid, 'another browser, another device key');
  await saveDownload('#device-download', 'offline-device.pub');
  await saveDownload('#export-signed', 'offline-export.cose');
  await page.waitForFunction(() => document.querySelector('#export-info').dataset.state === 'ok');
  assert.equal(await page.locator('#export-info').getAttribute('data-entries'), '2');
  assert.deepEqual(fileRequests, [], 'the single file fetches nothing');
});

assert.deepEqual(problems, []);
result.times = times;
await cameraBrowser.close();
console.log(`RESULT ${JSON.stringify(result)}`);
