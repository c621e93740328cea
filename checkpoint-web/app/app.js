// The checkpoint web app. Every decision — pinning the root, accepting a bundle, the verdict
// and its reasons, a repeat scan — is made by the verifier compiled to WebAssembly
// (pkg/, from checkpoint-web/wasm: the same Rust rules as the native verifier). This file
// shows, stores and reads files; it judges nothing.
//
// URL parameters (for a test set-up or a drill, never needed on duty):
//   now=UNIX   a simulated clock (shown in a banner, logged as simulated)
//   dev=1      accept the public development/test keys (as `verifier init --allow-dev-keys`)
import init, { Verifier } from './pkg/checkpoint_wasm.js';
import { open } from './store.js';
import { WORDS } from './i18n.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const SIMULATED = params.has('now') ? Number(params.get('now')) : null;
const ALLOW_DEV = params.get('dev') === '1';
const now = () => SIMULATED ?? Math.floor(Date.now() / 1000);

let lang = 'zh';
let store;
let verifier = null;
let summary = null;
let last = null; // the last verdict shown, to re-render on a language switch
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
  renderBundle();
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
    row('number', f.number); // the national pass number, as printed on the sheet
    body.append(dl);
  }
  if (v.reasons.length) {
    body.append(el('ul', { class: 'reasons' }, ...v.reasons.map((r) => el('li', { 'data-code': r.code }, r[lang]))));
  }
  panel.dataset.level = v.level;
  if (navigator.vibrate) navigator.vibrate(v.level === 'green' ? 80 : v.level === 'amber' ? [80, 60, 80] : [300, 100, 300]);
}

async function renderLog() {
  if (!store) return;
  const scans = await store.scans();
  const dayStart = new Date(now() * 1000);
  dayStart.setHours(0, 0, 0, 0);
  const today = scans.filter((s) => s.at >= dayStart.getTime() / 1000).reverse();
  $('log-rows').replaceChildren(
    ...today.map((s) =>
      el('tr', {},
        el('td', {}, s.at_cst),
        el('td', {}, s.plate ?? ''),
        el('td', {}, s.serial ?? ''),
        el('td', { class: s.level }, s.words[lang]),
        el('td', {}, s.reasons.join(' '))),
    ),
  );
}

/** A CSV cell that a spreadsheet shows as text (no formula), quoted. */
function cell(value) {
  let s = String(value ?? '');
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replaceAll('"', '""')}"`;
}

async function exportCsv() {
  const scans = await store.scans();
  const header = ['time', 'unix', 'checkpoint', 'officer', 'serial', 'plate', 'verdict', 'reasons', 'bundle_sequence', 'simulated'];
  const lines = [header.join(',')].concat(
    scans.map((s) => [s.at_cst, s.at, s.checkpoint, s.officer, s.serial, s.plate, s.level, s.reasons.join(' '), s.bundle_sequence, s.simulated].map(cell).join(',')),
  );
  const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
  const a = el('a', { href: URL.createObjectURL(blob), download: `scans-${new Date(now() * 1000).toISOString().slice(0, 10)}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
}

async function check(text) {
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
  renderVerdict(v);
  await store.add({
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
  await renderLog();
}

async function readImage(file) {
  const zxing = await import('./vendor/zxing/es/reader/index.js');
  zxing.prepareZXingModule({
    overrides: {
      // The reader's WebAssembly from the app's own folder, never from a CDN.
      locateFile: (path, prefix) => (path.endsWith('.wasm') ? new URL('vendor/zxing/reader/zxing_reader.wasm', location.href).href : prefix + path),
    },
  });
  const found = await zxing.readBarcodesFromImageFile(file, { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 1 });
  const text = found.find((b) => b.isValid)?.text;
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
  const text = await file.text();
  try {
    const v = new Verifier(text, ALLOW_DEV);
    verifier?.free();
    verifier = v;
    summary = null;
    await store.set({ root_file: text, bundle: null, installed: null });
    showError('root-error', null);
  } catch (e) {
    showError('root-error', e.message);
  }
  applyLanguage();
}

async function installBundle(file) {
  if (!verifier) return showError('bundle-error', t('noRoot'));
  const bytes = new Uint8Array(await file.arrayBuffer());
  const installed = (await store.get('installed')) ?? null;
  try {
    const s = JSON.parse(verifier.install(bytes, JSON.stringify(installed), now()));
    summary = s;
    await store.set({ bundle: bytes, installed: { sequence: s.sequence, digest: s.digest } });
    showError('bundle-error', null);
  } catch (e) {
    showError('bundle-error', e.message);
  }
  applyLanguage();
}

async function start() {
  await init({ module_or_path: new URL('pkg/checkpoint_wasm_bg.wasm', location.href) });
  store = await open();
  lang = (await store.get('lang')) ?? 'zh';
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
  $('checkpoint').dataset.chosen = (await store.get('checkpoint')) ?? '';
  $('officer').value = (await store.get('officer')) ?? '';

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
  addEventListener('online', renderStatus);
  addEventListener('offline', renderStatus);

  if ('serviceWorker' in navigator && location.protocol !== 'file:') {
    navigator.serviceWorker.register('sw.js').then(() => navigator.serviceWorker.ready).then(renderStatus);
    navigator.serviceWorker.addEventListener('controllerchange', renderStatus);
  }
  applyLanguage();
  document.body.dataset.ready = 'true';
  $('qr-text').focus();
}

start().catch((e) => {
  showError('app-error', `${e.message ?? e}`);
  document.body.dataset.ready = 'error';
});
