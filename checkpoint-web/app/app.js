// The checkpoint web app. Every decision — pinning the root, accepting a bundle, the verdict
// and its reasons, a repeat scan — is made by the verifier compiled to WebAssembly
// (pkg/, from checkpoint-web/wasm: the same Rust rules as the native verifier). This file
// shows, stores and reads files; it judges nothing.
//
// URL parameters (for a test set-up or a drill, never needed on duty):
//   now=UNIX   a simulated clock (shown in a banner, logged as simulated)
//   dev=1      accept the public development/test keys (as `verifier init --allow-dev-keys`)
//
// The single-file app (checkpoint-offline.html, for a folder opened from a file with no server)
// is this code bundled into one script, with the two WebAssembly modules embedded as base64
// in CHECKPOINT_EMBEDDED; there the QR reader runs on the page's thread (no worker from files)
// and no service worker is needed (the file is already on the device).
//
// The log leaves the device as the desktop verifier's signed file (checkpass::logfile, made by
// the WebAssembly's sign_export with this device's own key, whose public file the settings
// offer for the city to register). After a verdict whose test is too old (TEST_TOO_OLD) the
// officer can record the sample time of a newer report the driver shows: a log entry of its
// own (kind test_report); the verdict itself stays as the verifier gave it.
import init, { Verifier, app_words, chain_link, device_key, sign_export, test_report, verify_log } from './pkg/checkpoint_wasm.js';
import { chainFields, open } from './store.js';
import { WORDS, loadWords } from './i18n.js';
import { Camera, cameraProblem } from './camera.js';
import { playVerdict, unlockSound, vibrateVerdict } from './sound.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const SIMULATED = params.has('now') ? Number(params.get('now')) : null;
const ALLOW_DEV = params.get('dev') === '1';
const now = () => SIMULATED ?? Math.floor(Date.now() / 1000);
const EMBEDDED = globalThis.CHECKPOINT_EMBEDDED ?? null;
const unbase64 = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** decoder.js on the page's thread, prepared once (image files; the camera in the single file). */
let pageReader = null;
async function reader() {
  if (!pageReader) {
    pageReader = await import('./decoder.js');
    pageReader.prepareReader(EMBEDDED ? { wasmBinary: unbase64(EMBEDDED.zxing) } : { base: location.href });
  }
  return pageReader;
}

let lang = 'zh';
let store;
let verifier = null;
let summary = null;
let last = null; // the last verdict shown, to re-render on a language switch
let camera = null;
let cameraState = 'cameraOff'; // a key of i18n.js: off, starting, ready, or why it failed
// A pass held still in front of the camera is checked once: later reads of the same text are
// ignored while it is seen again within this many seconds (as the desktop verifier).
const HOLD_MS = 3000;
let held = null; // { text, lastSeen }
let shownAt = null; // when the verdict on screen was shown (ms), for the countdown
let timeoutSecs = 10;
let soundOn = true;
let deviceSeed = null; // the device key's 32-byte seed, from IndexedDB
let device = null; // { kid, public_key, file }
let paused = false; // the officer is recording a test report: no countdown
const t = (key) => WORDS[lang][key] ?? key;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c ?? '');
  return e;
}

function showError(id, message) {
  const p = $(id);
  p.textContent = message ?? '';
  p.hidden = !message;
}

function applyLanguage() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  for (const e of document.querySelectorAll('[data-t]')) e.textContent = t(e.dataset.t);
  $('lang').textContent = t('switchTo');
  $('lang').lang = lang === 'zh' ? 'en' : 'zh-CN';
  if (SIMULATED !== null) {
    $('simulated').hidden = false;
    $('simulated').textContent = `${t('simulated')}: ${new Date(SIMULATED * 1000).toISOString()}`;
  }
  renderStatus();
  renderCamera();
  renderBundle();
  renderDevice();
  if (last) renderVerdict(last);
  renderLog();
}

function renderStatus() {
  const parts = [];
  const controlled = 'serviceWorker' in navigator && navigator.serviceWorker.controller;
  if (controlled) parts.push(t('offline'));
  parts.push(navigator.onLine ? t('online') : t('noNetwork'));
  if (summary) parts.push(`${t('bundle')} #${summary.sequence} · ${t('age')} ${summary.age_hours} ${t('hours')}`);
  const s = $('status');
  s.textContent = parts.join(' · ');
  s.classList.toggle('stale', Boolean(summary?.stale));
}

function renderBundle() {
  $('root-kid').textContent = verifier ? verifier.root_kid : '—';
  const info = $('bundle-info');
  if (!summary) {
    info.textContent = '—';
    return;
  }
  info.textContent = `${t('sequence')} ${summary.sequence} · ${summary.issuer} · ${t('issued')} ${summary.issued_at_cst} · ${t('age')} ${summary.age_hours} ${t('hours')}${summary.stale ? ` — ${t('stale')}` : ''}`;
  info.className = summary.stale ? 'error' : '';
  const select = $('checkpoint');
  const chosen = select.value || select.dataset.chosen || '';
  select.replaceChildren(el('option', { value: '' }, `— ${t('checkpoint')} —`));
  for (const c of summary.checkpoints) {
    const o = el('option', { value: c.code }, `${c.code} ${c.name}`);
    if (c.code === chosen) o.selected = true;
    select.append(o);
  }
}

function renderDevice() {
  $('device-kid').textContent = device?.kid ?? '—';
  $('device-public').textContent = device?.public_key ?? '';
  $('device-download').disabled = !device;
  $('export-signed').disabled = !device;
}

/** The pass's test is too old: the officer may record a newer report he sees. */
function reportControl(v) {
  if (v.recorded) return el('p', { id: 'report-recorded', class: 'recorded' }, t('reportRecorded'), el('span', { class: 'nowrap' }, v.recorded));
  if (!v.reasons.some((r) => r.code === 'TEST_TOO_OLD') || v.test_sampled_at == null) return null;
  const form = el('form', { id: 'report-form', class: 'report', autocomplete: 'off' },
    el('label', { for: 'report-time' }, t('reportTitle')),
    el('p', { class: 'note' }, t('reportHint')),
    el('div', { class: 'row' },
      el('input', { id: 'report-time', type: 'datetime-local', required: '', value: v.reportTyped ?? '' }),
      el('button', { id: 'report-record', type: 'submit' }, t('reportConfirm'))),
    el('p', { id: 'report-error', class: 'error', role: 'alert', hidden: '' }));
  // While the officer looks at the report and types, the verdict stays on screen.
  form.addEventListener('focusin', () => {
    paused = true;
    renderCountdown();
  });
  // Kept on the verdict, so a language switch does not lose what was typed.
  form.addEventListener('input', (e) => {
    v.reportTyped = e.target.value;
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    recordReport(v);
  });
  return form;
}

function renderVerdict(v) {
  const panel = $('verdict');
  panel.className = `verdict ${v.level}`;
  $('verdict-word').textContent = v.word[lang];
  const body = $('verdict-body');
  body.replaceChildren();
  const f = v.view;
  if (f) {
    const dl = el('dl', { class: 'facts' });
    const row = (key, value, cls) => dl.append(el('dt', {}, t(key)), el('dd', cls ? { class: cls } : {}, value));
    row('plate', f.plate, 'plate');
    if (f.trailer) row('trailer', f.trailer);
    row('driver', f.driver_name);
    row('id', f.driver_id_masked);
    row('occupants', String(f.occupants));
    row('category', lang === 'zh' ? f.category_zh : f.category_en);
    row('cargo', f.cargo);
    row('from', f.origin);
    row('to', f.destination);
    const route = el('span', { class: 'route' });
    f.route.forEach((stop, i) => {
      if (i) route.append(' → ');
      route.append(el('span', stop.here ? { class: 'here' } : {}, `${stop.code} ${stop.name}`));
    });
    dl.append(el('dt', {}, t('route')), el('dd', {}, route));
    row('valid', `${f.valid_from} — ${f.valid_to}`);
    row('test', `${f.test_sampled_at} (${f.test_age_hours} ${t('hoursAgo')})`);
    if (f.arrive_by) row('arriveBy', `${f.arrive_by} (${t('lastStop')})`);
    row('number', f.number); // the national pass number, as printed on the sheet
    body.append(dl);
  }
  if (v.reasons.length) {
    body.append(el('ul', { class: 'reasons' }, ...v.reasons.map((r) => el('li', { 'data-code': r.code }, r[lang]))));
  }
  const report = reportControl(v);
  if (report) body.append(report);
  panel.dataset.level = v.level;
  renderCountdown();
}

function renderCamera() {
  const toggle = $('camera-toggle');
  toggle.textContent = t(camera?.running ? 'cameraStop' : 'cameraStart');
  toggle.disabled = cameraState === 'cameraStarting';
  const torch = $('torch');
  torch.hidden = !camera?.running || !camera.hasTorch;
  torch.textContent = t(torch.dataset.on === 'true' ? 'torchOff' : 'torchOn');
  $('camera').hidden = !camera?.running;
  const status = $('camera-status');
  status.textContent = t(cameraState);
  status.classList.toggle('problem', !['cameraOff', 'cameraStarting', 'cameraReady'].includes(cameraState));
}

/** The verdict stays for the chosen time, then the panel waits for the next pass. */
function renderCountdown() {
  const row = $('countdown-row');
  if (shownAt === null) {
    row.hidden = true;
    return;
  }
  if (paused) {
    row.hidden = false;
    $('countdown').textContent = '';
    return;
  }
  const left = Math.max(0, Math.ceil(timeoutSecs - (Date.now() - shownAt) / 1000));
  if (left === 0) return backToScanning();
  row.hidden = false;
  $('countdown').textContent = `${left} ${t('secondsLeft')}`;
}

function backToScanning() {
  shownAt = null;
  paused = false;
  last = null;
  const panel = $('verdict');
  panel.className = 'verdict idle';
  panel.dataset.level = 'idle';
  $('verdict-word').textContent = t('ready');
  $('verdict-body').replaceChildren();
  $('countdown-row').hidden = true;
}

async function renderLog() {
  if (!store) return;
  const scans = await store.scans();
  const dayStart = new Date(now() * 1000);
  dayStart.setHours(0, 0, 0, 0);
  const today = scans.filter((s) => s.at >= dayStart.getTime() / 1000).reverse();
  $('log-rows').replaceChildren(
    ...today.map((s) => {
      const report = s.kind === 'test_report';
      return el('tr', report ? { class: 'test-report' } : {},
        el('td', {}, s.at_cst ?? ''),
        el('td', {}, s.plate ?? ''),
        el('td', {}, s.serial ?? ''),
        report ? el('td', {}, t('reportRow')) : el('td', { class: s.level ?? '' }, s.words?.[lang] ?? s.level ?? ''),
        el('td', {}, report ? `${t('sampled')} ${s.sample_at_cst ?? s.note ?? ''}` : (s.reasons ?? []).join(' ')));
    }),
  );
}

function download(blob, name) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

/** A CSV cell that a spreadsheet shows as text (no formula), quoted. */
function cell(value) {
  let s = String(value ?? '');
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replaceAll('"', '""')}"`;
}

async function exportCsv() {
  const scans = await store.scans();
  const header = ['id', 'time', 'unix', 'checkpoint', 'officer', 'serial', 'plate', 'verdict', 'reasons', 'bundle_sequence', 'simulated', 'hash', 'kind', 'note'];
  const lines = [header.join(',')].concat(
    scans.map((s) => [s.id, s.at_cst, s.at, s.checkpoint, s.officer, s.serial, s.plate, s.level, (s.reasons ?? []).join(' '), s.bundle_sequence, s.simulated, s.hash, s.kind ?? 'scan', s.note].map(cell).join(',')),
  );
  const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
  download(blob, `scans-${new Date(now() * 1000).toISOString().slice(0, 10)}.csv`);
}

/** The device's public key file, as `verifier log device --out` writes it. */
function downloadDeviceKey() {
  if (!device) return;
  download(new Blob([device.file], { type: 'text/plain;charset=utf-8' }), `device-${device.kid}.pub`);
}

/**
 * The log, all of it or since the last signed export, signed by this device (the
 * WebAssembly checks the chain first: a broken log is refused, not exported). Where it ended
 * is remembered, so the next export joins it.
 */
async function exportSigned() {
  const info = $('export-info');
  try {
    const scans = await store.scans();
    const lastExport = (await store.get('last_export')) ?? null;
    const since = $('export-range').value === 'since' && lastExport;
    const entries = since ? scans.filter((s) => s.id > lastExport.id) : scans;
    const prev = since ? lastExport.hash : '';
    // The device's real clock, as the desktop's export (a simulated clock only marks scans).
    const exportedAt = Math.floor(Date.now() / 1000);
    const bytes = sign_export(deviceSeed, prev, JSON.stringify(entries.map((s) => ({ ...chainFields(s), hash: s.hash ?? null }))), exportedAt);
    const stamp = new Date(exportedAt * 1000).toISOString().replace(/[-:]/g, '').slice(0, 15);
    const name = `scanlog-${device.kid}-${stamp}Z.cose`;
    download(new Blob([bytes], { type: 'application/cose' }), name);
    const end = entries.at(-1);
    if (end) await store.set({ last_export: { id: end.id, hash: end.hash, at: exportedAt } });
    info.className = 'note';
    info.dataset.state = 'ok';
    info.dataset.entries = String(entries.length);
    info.textContent = `${t('exported')}: ${entries.length} ${t('entries')} · ${name}`;
  } catch (e) {
    info.className = 'error';
    info.dataset.state = 'failed';
    info.textContent = `${t('exportFailed')}: ${e?.message ?? e}`;
  }
}

/** Logs the sample time of the newer report the officer saw, right after the scan. */
async function recordReport(v) {
  const error = (message) => showError('report-error', message);
  let r;
  try {
    r = JSON.parse(test_report($('report-time').value, v.test_sampled_at, now()));
  } catch (e) {
    return error(`${t('reportRefused')}: ${e?.message ?? e}`);
  }
  try {
    await store.add({
      kind: 'test_report',
      at: now(),
      at_cst: r.at_cst,
      checkpoint: v.checkpoint,
      officer: $('officer').value,
      serial: v.serial,
      plate: v.view?.plate ?? null,
      level: null,
      reasons: [],
      bundle_sequence: null,
      simulated: SIMULATED !== null,
      note: r.note,
      sample_at_cst: r.sample_at_cst,
    });
  } catch (e) {
    return error(`${t('notLogged')}: ${e?.message ?? e}`);
  }
  v.recorded = r.sample_at_cst;
  if (last === v) {
    // Recorded: the panel says so for the usual time, then back to scanning.
    paused = false;
    shownAt = Date.now();
    renderVerdict(v);
  }
  await renderLog();
}

/**
 * Verifies one QR text, shows and announces the verdict, and logs it. `capturedAt` (ms,
 * performance clock) is when the camera frame holding it was taken, for the time from frame
 * to verdict on screen.
 */
/** Checks the whole log's hash chain (the WebAssembly judges) and says what it found. */
async function verifyChain() {
  const scans = await store.scans();
  const out = $('chain-info');
  try {
    const head = verify_log(JSON.stringify(scans.map((s) => ({ ...chainFields(s), hash: s.hash ?? null }))));
    out.className = 'note';
    out.dataset.state = 'ok';
    out.textContent = `${t('chainOk')}: ${scans.length} ${t('entries')} · ${head.slice(0, 16)}`;
  } catch (e) {
    out.className = 'error';
    out.dataset.state = 'broken';
    out.textContent = `${t('chainBroken')}: ${e.message}`;
  }
}

async function check(text, capturedAt = null) {
  text = text.replace(/[\r\n]+$/, '');
  if (!text) return;
  if (!verifier) return showError('app-error', t('noRoot'));
  if (!summary) return showError('app-error', t('noBundle'));
  const checkpoint = $('checkpoint').value;
  if (!checkpoint) return showError('app-error', t('noCheckpoint'));
  showError('app-error', null);
  const at = now();
  const simulated = SIMULATED !== null;
  // Once without the log to learn which pass this is (a serial only when the signature
  // holds), then with what the log says about it: the verifier adds repeat and clock findings.
  const first = JSON.parse(verifier.verify(text, checkpoint, at, 'null'));
  const facts = await store.facts(first.serial, checkpoint, simulated);
  const v = JSON.parse(verifier.verify(text, checkpoint, at, JSON.stringify(facts)));
  last = v;
  shownAt = Date.now();
  paused = false;
  renderVerdict(v);
  // The verdict is what the officer looks at, wherever the page was scrolled to.
  $('verdict').scrollIntoView({ block: 'start' });
  if (soundOn) playVerdict(v.level);
  vibrateVerdict(v.level);
  if (capturedAt !== null) {
    // On screen once the browser has painted the panel.
    requestAnimationFrame(() => performance.measure('frame-to-verdict', { start: capturedAt, end: performance.now() }));
  }
  try {
    await store.add({
      kind: 'scan',
      at,
      at_cst: v.checked_at_cst,
      checkpoint,
      officer: $('officer').value,
      serial: v.serial,
      plate: v.view?.plate ?? null,
      level: v.level,
      words: v.word,
      reasons: v.reasons.map((r) => r.code),
      bundle_sequence: summary.sequence,
      simulated,
    });
  } catch (e) {
    // The verdict stands; the officer must know that this check is not in the log.
    showError('app-error', `${t('notLogged')}: ${e?.message ?? e}`);
  }
  await renderLog();
}

/** A QR read by the camera: checked unless it is the pass already held in view. */
async function cameraRead(text, { capturedAt }) {
  const nowMs = Date.now();
  const same = held && held.text === text && nowMs - held.lastSeen <= HOLD_MS;
  held = { text, lastSeen: nowMs };
  if (!same) await check(text, capturedAt);
}

async function toggleCamera() {
  unlockSound();
  if (camera?.running) {
    camera.stop();
    camera = null;
    cameraState = 'cameraOff';
    $('torch').dataset.on = 'false';
    await store.set({ camera: false });
    return renderCamera();
  }
  camera = new Camera($('camera'), (text, info) => cameraRead(text, info), EMBEDDED ? await reader() : null);
  cameraState = 'cameraStarting';
  renderCamera();
  performance.mark('camera-start');
  try {
    await camera.start();
    performance.measure('camera-ready', 'camera-start');
    cameraState = 'cameraReady';
    await store.set({ camera: true });
  } catch (e) {
    camera.stop();
    camera = null;
    cameraState = cameraProblem(e);
    console.warn(`camera: ${e.name}: ${e.message}`);
  }
  renderCamera();
}

async function toggleTorch() {
  const on = $('torch').dataset.on !== 'true';
  try {
    await camera.setTorch(on);
    $('torch').dataset.on = String(on);
  } catch (e) {
    console.warn(`torch: ${e.message}`);
  }
  renderCamera();
}

async function readImage(file) {
  const text = await (await reader()).readFile(file);
  if (!text) {
    const v = JSON.parse(verifier?.verify('', $('checkpoint').value, now(), 'null') ?? 'null');
    if (v) {
      last = v;
      renderVerdict(v);
    }
    return showError('app-error', t('noQr'));
  }
  await check(text);
}

async function pinRoot(file) {
  await pinRootText(await file.text());
}

async function pinRootText(text) {
  try {
    const v = new Verifier(text, ALLOW_DEV);
    verifier?.free();
    verifier = v;
    summary = null;
    await store.set({ root_file: text, bundle: null, installed: null });
    showError('root-error', null);
    $('root-offer').hidden = true;
  } catch (e) {
    showError('root-error', e.message);
  }
  applyLanguage();
}

async function installBundle(file) {
  await installBundleBytes(new Uint8Array(await file.arrayBuffer()));
}

/** Installs a bundle if the verifier accepts it; returns the summary, or null when refused. */
async function installBundleBytes(bytes) {
  if (!verifier) {
    showError('bundle-error', t('noRoot'));
    return null;
  }
  const installed = (await store.get('installed')) ?? null;
  try {
    const s = JSON.parse(verifier.install(bytes, JSON.stringify(installed), now()));
    summary = s;
    // A pass still in view is judged again under the new bundle (it may be revoked now).
    held = null;
    await store.set({ bundle: bytes, installed: { sequence: s.sequence, digest: s.digest } });
    showError('bundle-error', null);
    applyLanguage();
    return s;
  } catch (e) {
    showError('bundle-error', e.message);
    applyLanguage();
    return null;
  }
}

const fetchable = () => location.protocol === 'http:' || location.protocol === 'https:';

/**
 * With no root pinned: the root key the service offers, shown by its key id for the officer to
 * compare with the printed one (never pinned without that tap).
 */
async function offerRoot() {
  if (verifier || !fetchable() || !navigator.onLine) return;
  try {
    const res = await fetch('root.pub', { cache: 'no-store' });
    if (!res.ok) return;
    const text = await res.text();
    const offered = new Verifier(text, ALLOW_DEV);
    $('offered-kid').textContent = offered.root_kid;
    offered.free();
    $('root-offer').hidden = false;
    $('pin-offered').onclick = () => pinRootText(text);
  } catch {
    // No service, or not a root key the verifier takes: the file input stays the way.
  }
}

/** The newest bundle from the service, judged like one from a file (root, sequence, size). */
async function fetchBundle() {
  if (!verifier || !fetchable()) return;
  const info = $('fetch-info');
  info.textContent = t('fetching');
  let res;
  try {
    res = await fetch('bundle.cose', { cache: 'no-store' });
  } catch {
    info.textContent = t('fetchFailed');
    return;
  }
  if (res.status === 404) {
    info.textContent = t('fetchNone');
    return;
  }
  if (!res.ok) {
    info.textContent = t('fetchFailed');
    return;
  }
  const before = summary?.digest;
  const s = await installBundleBytes(new Uint8Array(await res.arrayBuffer()));
  info.textContent = s ? t(s.digest === before ? 'fetchedSame' : 'fetchedNew') : '';
}

async function start() {
  await init({ module_or_path: EMBEDDED ? unbase64(EMBEDDED.verifier) : new URL('pkg/checkpoint_wasm_bg.wasm', location.href) });
  loadWords(app_words());
  store = await open(chain_link);
  lang = (await store.get('lang')) ?? 'zh';
  try {
    deviceSeed = await store.deviceSeed();
    device = JSON.parse(device_key(deviceSeed));
  } catch (e) {
    showError('app-error', e?.message ?? String(e));
  }
  const rootFile = await store.get('root_file');
  if (rootFile) {
    try {
      verifier = new Verifier(rootFile, ALLOW_DEV);
      const bytes = await store.get('bundle');
      if (bytes) summary = JSON.parse(verifier.install(bytes, JSON.stringify((await store.get('installed')) ?? null), now()));
    } catch (e) {
      showError('app-error', e.message);
    }
  }
  $('single-file').hidden = Boolean(EMBEDDED) || !fetchable();
  $('checkpoint').dataset.chosen = (await store.get('checkpoint')) ?? '';
  $('officer').value = (await store.get('officer')) ?? '';
  timeoutSecs = Number((await store.get('timeout')) ?? 10);
  $('timeout').value = String(timeoutSecs);
  soundOn = (await store.get('sound')) ?? true;
  $('sound').checked = soundOn;

  $('lang').addEventListener('click', async () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    await store.set({ lang });
    applyLanguage();
  });
  $('root-file').addEventListener('change', (e) => e.target.files[0] && pinRoot(e.target.files[0]));
  $('bundle-file').addEventListener('change', (e) => e.target.files[0] && installBundle(e.target.files[0]));
  $('checkpoint').addEventListener('change', (e) => store.set({ checkpoint: e.target.value }));
  $('officer').addEventListener('change', (e) => store.set({ officer: e.target.value }));
  $('scan-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('qr-text');
    const text = input.value;
    input.value = '';
    await check(text);
    input.focus();
  });
  $('qr-image').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (file) await readImage(file);
  });
  $('export').addEventListener('click', exportCsv);
  $('verify-chain').addEventListener('click', verifyChain);
  $('export-signed').addEventListener('click', exportSigned);
  $('device-download').addEventListener('click', downloadDeviceKey);
  $('camera-toggle').addEventListener('click', toggleCamera);
  $('torch').addEventListener('click', toggleTorch);
  $('dismiss').addEventListener('click', backToScanning);
  $('timeout').addEventListener('change', async (e) => {
    timeoutSecs = Number(e.target.value);
    await store.set({ timeout: timeoutSecs });
  });
  $('sound').addEventListener('change', async (e) => {
    soundOn = e.target.checked;
    await store.set({ sound: soundOn });
  });
  setInterval(renderCountdown, 250);
  addEventListener('online', () => {
    renderStatus();
    fetchBundle();
  });
  $('bundle-fetch').addEventListener('click', fetchBundle);
  addEventListener('offline', renderStatus);

  if ('serviceWorker' in navigator && location.protocol !== 'file:') {
    navigator.serviceWorker.register('sw.js').then(() => navigator.serviceWorker.ready).then(renderStatus);
    navigator.serviceWorker.addEventListener('controllerchange', renderStatus);
  }
  applyLanguage();
  performance.mark('app-ready');
  document.body.dataset.ready = 'true';
  // The camera comes back on if it was on when the app was last closed (the browser remembers
  // the permission for the site; a first start waits for the officer's tap).
  if ((await store.get('camera')) === true) toggleCamera();
  if (navigator.onLine) {
    offerRoot();
    fetchBundle();
  }
  $('qr-text').focus();
}

start().catch((e) => {
  showError('app-error', `${e.message ?? e}`);
  document.body.dataset.ready = 'error';
});
