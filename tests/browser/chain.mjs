// The web service in a real browser: Debian's headless Chromium driven by playwright-core.
//
// Run by issuer/tests/browser.rs against an `issuer serve --sign` it started on the sample's
// simulated clock (2022-03-12 09:00, UTC+8), with the accounts it made. By hand:
//
//   BASE_URL=http://127.0.0.1:8080 PASSWORD=... OUT_DIR=/tmp/out node tests/browser/chain.mjs
//
// What it does, as people would (typing, choosing, clicking, downloading):
// - the whole chain on a phone-sized and on a desktop-sized window, each with its own
//   application: the applicant submits with one field wrong and sees the Chinese error beside
//   that field, corrects it and submits; the district liaison finds it in the queue and
//   forwards it; a city reviewer approves and issues it; the applicant sees 已发证 and
//   downloads the QR image and the pass PDF (the Rust test then checks that QR at a
//   checkpoint on the route);
// - a rejection with a reason reaches the applicant's list and the city's SMS outbox (page and
//   gateway CSV); its driver is named `<script>alert(1)</script>`, which must show as text on
//   every page (no dialog may open);
// - another district's liaison and another organisation's applicant opening an application
//   by its URL are refused and shown none of its data.
//
// Environment: BASE_URL, PASSWORD (every account's), OUT_DIR (downloads, screenshots, and a
// screenshot of the page when a step fails), SCREENSHOT_DIR (where the three screenshots for
// the README go; default OUT_DIR), CHROMIUM (default /usr/bin/chromium), and the account names
// APPLICANT, OTHER_APPLICANT, LIAISON (district 371002), OTHER_LIAISON, REVIEWER.
// Prints `RESULT {json}` as its last line and exits 0 when every check passed, 1 otherwise.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`environment variable ${name} is not set`);
  return v;
};
const BASE = env('BASE_URL').replace(/\/$/, '');
const PASSWORD = env('PASSWORD');
const OUT = env('OUT_DIR');
const SHOTS = env('SCREENSHOT_DIR', OUT);
const ACCOUNTS = {
  applicant: env('APPLICANT', 'shunda'),
  otherApplicant: env('OTHER_APPLICANT', 'haiyun'),
  liaison: env('LIAISON', 'liaison-hc'),
  otherLiaison: env('OTHER_LIAISON', 'liaison-wd'),
  reviewer: env('REVIEWER', 'reviewer1'),
};
/** The driver's test report the applicant uploads with the form (a fictional sample). */
const REPORT = env('REPORT_FILE', fileURLToPath(new URL('report.png', import.meta.url)));
fs.mkdirSync(OUT, { recursive: true });
// Never hang the test run: the whole script normally takes about 25 s.
setTimeout(() => {
  console.error(`FAILED: still running after 5 minutes, at step “${step}”`);
  process.exit(1);
}, 300_000).unref();
fs.mkdirSync(SHOTS, { recursive: true });

const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};
const DESKTOP = { viewport: { width: 1366, height: 900 } };

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

const t0 = Date.now();
/** Notes a step on standard error with the seconds since the start (the Rust test shows it). */
function note(what) {
  step = what;
  console.error(`${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${what}`);
}

/** A screenshot of the whole page, cut below its content (no empty window under a short list). */
async function shot(page, file) {
  const height = await page.evaluate(() => document.body.scrollHeight);
  const { width } = page.viewportSize();
  await page.screenshot({ path: file, fullPage: true, clip: { x: 0, y: 0, width, height: height + 16 } });
}

/** Every dialog a page opened (an alert would mean a name ran as script). */
const dialogs = [];
/** The page of the step under way, for a screenshot when it fails. */
let current = null;
let step = 'launch';

/** A signed-in person in a fresh browser context of the given size. */
async function signIn(name, device) {
  const context = await browser.newContext({ ...device, locale: 'zh-CN', acceptDownloads: true });
  // Generous for a loaded 2-core machine; a step normally takes well under a second.
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  page.on('dialog', async (d) => {
    dialogs.push(`${name}: ${d.type()} ${d.message()}`);
    await d.dismiss();
  });
  current = page;
  await page.goto(`${BASE}/login`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(`${BASE}/queue`);
  return page;
}

/** GB 11643: an ID number with its check character, from 17 digits. */
function idNumber(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * w[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

/** The same ID number with a wrong check character. */
const wrongCheck = (id) => id.slice(0, 17) + (id[17] === '1' ? '2' : '1');

/** The field's own label: where the form shows that field's problems. */
const fieldLabel = (page, name) => page.locator('label', { has: page.locator(`[name="${name}"]`) });

/**
 * Fills the applicant's form for an application of district 371002 through C201 and C101;
 * `wrong` names one field to type wrong first (checked and corrected here). Returns the
 * application number the system gave.
 */
async function apply(page, app, wrong) {
  note(`${app.plate}: the form`);
  await page.getByRole('link', { name: '在线申请' }).click();
  await page.waitForURL(`${BASE}/apply`);
  const values = {
    plate: app.plate,
    driver_name: app.driver,
    driver_id: app.id,
    mobile: app.mobile,
    cargo: '钢材',
    origin: '环翠区张村镇工业园',
    destination: '文登区米山镇仓储中心',
    start: '2022-03-12T08:00',
    end: '2022-03-14T08:00',
    test_sampled_at: '2022-03-11T20:00',
  };
  await page.selectOption('[name=applicant_type]', '运输人');
  await page.selectOption('[name=district]', '371002');
  await page.selectOption('[name=category]', '工业原材料');
  // The route: one select per stop, in travel order.
  await page.selectOption('[name=route1]', 'C201');
  await page.selectOption('[name=route2]', 'C101');
  for (const [name, value] of Object.entries(values)) {
    await page.fill(`[name=${name}]`, name === wrong.field ? wrong.value : value);
  }
  await page.setInputFiles('[name=report]', REPORT);
  await page.getByRole('button', { name: '提交申请' }).click();
  await page.waitForLoadState();
  note(`${app.plate}: the error beside ${wrong.field}`);
  assert.equal(new URL(page.url()).pathname, '/apply', 'a wrong field keeps the form');
  await page.locator('p.error', { hasText: '申请未提交' }).waitFor();
  const beside = fieldLabel(page, wrong.field).locator('.error');
  assert.match(await beside.innerText(), wrong.message, `the error beside ${wrong.field}`);
  // Only that field is wrong, and what was typed and chosen is kept.
  assert.equal(await page.locator('label .error').count(), 1, 'one error on the form');
  for (const [name, value] of Object.entries(values)) {
    if (name !== wrong.field) assert.equal(await page.inputValue(`[name=${name}]`), value, name);
  }
  assert.equal(await page.inputValue('[name=route2]'), 'C101');
  if (wrong.screenshot) {
    await page.screenshot({ path: path.join(SHOTS, wrong.screenshot), fullPage: true });
  }
  note(`${app.plate}: corrected`);
  await page.fill(`[name=${wrong.field}]`, values[wrong.field]);
  // A browser never keeps a chosen file across pages: the report is chosen again.
  await page.setInputFiles('[name=report]', REPORT);
  await page.getByRole('button', { name: '提交申请' }).click();
  await page.waitForURL(/\/applications\/W[0-9A-F]+$/);
  const appNo = page.url().split('/').pop();
  await expectText(page, 'main', '已提交');
  await expectText(page, 'main', app.driver);
  await expectText(page, 'main', '查看报告（PNG');
  return appNo;
}

async function expectText(page, selector, text) {
  const got = await page.locator(selector).innerText();
  assert.ok(got.includes(text), `“${text}” on ${page.url()}, got:\n${got}`);
}

/** Opens an application from the signed-in person's queue (/queue) by its number. */
async function openFromQueue(page, appNo) {
  await page.getByRole('link', { name: '工作台' }).click();
  await page.waitForURL(`${BASE}/queue`);
  await page.getByRole('link', { name: appNo, exact: true }).click();
  await page.waitForURL(`${BASE}/applications/${appNo}`);
}

/** Presses an action's button on an application's page and waits for the page again. */
async function press(page, appNo, label, status) {
  await page.getByRole('button', { name: label, exact: true }).click();
  await page.waitForURL(`${BASE}/applications/${appNo}`);
  await expectText(page, 'main', status);
}

/** The liaison opens the uploaded test report from the application's page (a new tab). */
async function viewReport(page) {
  const [tab] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByRole('link', { name: /查看报告/ }).click(),
  ]);
  await tab.waitForLoadState();
  assert.match(tab.url(), /\/report$/);
  assert.equal(await tab.evaluate(() => document.contentType), 'image/png', 'the report as uploaded');
  await tab.close();
}

/** Clicks a download link and saves the file under OUT_DIR. */
async function download(page, linkName, file) {
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: linkName, exact: typeof linkName === 'string' }).click(),
  ]);
  const to = path.join(OUT, file);
  await dl.saveAs(to);
  assert.equal(await dl.failure(), null);
  return to;
}

/**
 * The whole chain on one window size: apply (one field wrong first), forward, approve, issue,
 * download.
 */
async function chain(label, device, app, wrong, shots = {}) {
  note(`${label}: applicant signs in`);
  const applicant = await signIn(ACCOUNTS.applicant, device);
  const appNo = await apply(applicant, app, wrong);

  note(`${label}: the liaison forwards ${appNo}`);
  const liaison = await signIn(ACCOUNTS.liaison, device);
  await expectText(liaison, 'main', appNo);
  await liaison.screenshot({ path: path.join(OUT, `${label}-district-queue.png`), fullPage: true });
  if (shots.district) {
    await shot(liaison, path.join(SHOTS, shots.district));
  }
  await openFromQueue(liaison, appNo);
  await viewReport(liaison);
  await press(liaison, appNo, '转报市级', '区市已转报');

  note(`${label}: the reviewer approves and issues ${appNo}`);
  const reviewer = await signIn(ACCOUNTS.reviewer, device);
  await expectText(reviewer, 'main', appNo);
  if (shots.city) {
    await shot(reviewer, path.join(SHOTS, shots.city));
  }
  await openFromQueue(reviewer, appNo);
  await press(reviewer, appNo, '批准', '市级已批准');
  await press(reviewer, appNo, '签发通行证', '已发证');

  note(`${label}: the applicant downloads ${appNo}`);
  current = applicant;
  await openFromQueue(applicant, appNo);
  await expectText(applicant, 'main', '已发证');
  await applicant.screenshot({ path: path.join(OUT, `${label}-issued.png`), fullPage: true });
  const qr = await download(applicant, '二维码', `${label}-qr.png`);
  const pdf = await download(applicant, 'PDF', `${label}-pass.pdf`);
  assert.equal(fs.readFileSync(pdf).subarray(0, 4).toString('latin1'), '%PDF', 'a PDF');
  assert.deepEqual([...fs.readFileSync(qr).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
  for (const p of [applicant, liaison, reviewer]) await p.context().close();
  return { app_no: appNo, qr, pdf, route: ['C201', 'C101'] };
}

/** A rejection with a reason reaches the applicant's list; the driver's name stays text. */
async function rejection(device) {
  const app = {
    plate: '鲁K5R003',
    driver: '<script>alert(1)</script>',
    id: idNumber('37100219850505123'),
    mobile: '13800000003',
  };
  const reason = '核酸检测报告不清晰，请重新提交';
  note('rejection: applicant');
  const applicant = await signIn(ACCOUNTS.applicant, device);
  const appNo = await apply(applicant, app, {
    field: 'plate',
    value: '鲁K',
    message: /车牌号格式错误/,
  });
  note('rejection: liaison');
  const liaison = await signIn(ACCOUNTS.liaison, device);
  await expectText(liaison, 'main', app.driver);
  await openFromQueue(liaison, appNo);
  await press(liaison, appNo, '转报市级', '区市已转报');
  note('rejection: reviewer');
  const reviewer = await signIn(ACCOUNTS.reviewer, device);
  await expectText(reviewer, 'main', app.driver);
  await openFromQueue(reviewer, appNo);
  // A rejection needs a reason: the browser's own check keeps the empty form.
  await reviewer.getByRole('button', { name: '驳回', exact: true }).click();
  assert.equal(reviewer.url(), `${BASE}/applications/${appNo}`);
  await expectText(reviewer, 'main', '区市已转报');
  await reviewer.getByLabel('驳回理由').fill(reason);
  await press(reviewer, appNo, '驳回', '已驳回');

  note('rejection: the applicant list');
  current = applicant;
  await applicant.getByRole('link', { name: '工作台' }).click();
  await applicant.waitForURL(`${BASE}/queue`);
  const row = applicant.locator('tr', { has: applicant.getByRole('link', { name: appNo }) });
  const text = await row.innerText();
  assert.ok(text.includes('已驳回'), `已驳回 in the applicant's list: ${text}`);
  assert.ok(text.includes(reason), `the reason in the applicant's list: ${text}`);
  assert.ok(text.includes(app.driver), `the name shown as text: ${text}`);
  await openFromQueue(applicant, appNo);
  await expectText(applicant, 'main', reason);
  // Not issued: nothing to download.
  assert.equal(await applicant.getByRole('link', { name: '二维码' }).count(), 0);
  for (const p of [applicant, liaison]) await p.context().close();

  note('rejection: the SMS outbox');
  current = reviewer;
  await smsOutbox(reviewer, appNo, app, reason);
  await reviewer.context().close();
  return { app_no: appNo, reason, mobile: app.mobile };
}

/**
 * The city's SMS outbox tells the rejected driver, with the reason (the page masks the phone,
 * the gateway's CSV has it whole), and the drivers of the passes issued before.
 */
async function smsOutbox(reviewer, appNo, app, reason) {
  await reviewer.getByRole('link', { name: '短信发件箱' }).click();
  await reviewer.waitForURL(`${BASE}/outbox`);
  const row = reviewer.locator('tr', { has: reviewer.getByRole('link', { name: appNo, exact: true }) });
  const text = await row.innerText();
  assert.ok(text.includes(reason), `the reason in the SMS: ${text}`);
  assert.ok(text.includes(app.driver), `the driver's name, as text: ${text}`);
  const masked = `${app.mobile.slice(0, 3)}****${app.mobile.slice(-4)}`;
  assert.ok(text.includes(masked), `the phone ${masked}: ${text}`);
  for (const issued of [result.phone?.app_no, result.desktop?.app_no]) {
    await reviewer.getByRole('link', { name: issued, exact: true }).waitFor();
  }
  const csv = fs.readFileSync(await download(reviewer, /短信网关文件/, 'sms-outbox.csv'), 'utf8');
  const line = csv.split(/\r?\n/).find((l) => l.includes(appNo)) ?? '';
  assert.ok(line.includes(app.mobile) && line.includes(reason), `the gateway's line: ${line}`);
}

/** Another district's liaison and another organisation's applicant, by URL: refused. */
async function directUrls(appNo, device, driver) {
  for (const who of [ACCOUNTS.otherLiaison, ACCOUNTS.otherApplicant]) {
    note(`direct URL: ${who} opens ${appNo}`);
    const page = await signIn(who, device);
    for (const url of ['', '/files/qr.png', '/report'].map((f) => `/applications/${appNo}${f}`)) {
      const answer = await page.goto(`${BASE}${url}`);
      assert.ok([403, 404].includes(answer.status()), `${who} ${url}: ${answer.status()}`);
      await expectText(page, 'main', '无法完成');
      const body = await page.locator('body').innerText();
      assert.ok(!body.includes(driver), `${who} sees none of the data: ${body}`);
    }
    // Nor is it in their list.
    await page.goto(`${BASE}/queue`);
    assert.equal(await page.getByRole('link', { name: appNo }).count(), 0);
    await page.context().close();
  }
}

let ok = false;
const result = {};
try {
  result.phone = await chain(
    'phone',
    PHONE,
    { plate: '鲁K5P001', driver: '张建国', id: idNumber('37100219800101101'), mobile: '13800000001' },
    { field: 'mobile', value: '1380000000', message: /11位手机号/, screenshot: 'web-apply.png' },
  );
  result.desktop = await chain(
    'desktop',
    DESKTOP,
    { plate: '鲁K5D002', driver: '李红梅', id: idNumber('37100219900315202'), mobile: '13800000002' },
    { field: 'driver_id', value: wrongCheck(idNumber('37100219900315202')), message: /校验位/ },
    { district: 'web-district-queue.png', city: 'web-city-queue.png' },
  );
  result.rejected = await rejection(DESKTOP);
  await directUrls(result.phone.app_no, PHONE, '张建国');
  note('no dialog opened');
  assert.deepEqual(dialogs, [], 'no page opened a dialog (a name ran as script)');
  ok = true;
} catch (e) {
  console.error(`FAILED at step “${step}”: ${e.stack ?? e}`);
  if (current && !current.isClosed()) {
    const shot = path.join(OUT, 'failure.png');
    await current.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.error(`page ${current.url()}, screenshot ${shot}`);
  }
} finally {
  await browser.close();
}
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(ok ? 0 : 1);
