// The auditor's console (web/) in headless Chromium against the running stack
// (scripts/test starts it and sets KT_BASE_URL, KT_CTL, KT_TEST_VAR). Data is
// seeded through the API with tokens from `kontingentctl token issue`; the
// screenshots of the main views go to build/screenshots/, or with
// KT_UPDATE_SCREENSHOTS=1 to docs/img/console-*.png (the committed ones).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chromium, request } from 'playwright-core';

const BASE = (process.env.KT_BASE_URL || '').replace(/\/$/, '');
const CTL = process.env.KT_CTL;
const VAR = process.env.KT_TEST_VAR;
const CHROMIUM = process.env.KT_CHROMIUM || '/usr/bin/chromium';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = process.env.KT_UPDATE_SCREENSHOTS === '1'
  ? path.join(REPO, 'docs', 'img')
  : path.join(REPO, 'build', 'screenshots');
const RUN = Date.now().toString(36); // subjects unique to this run

if (!BASE || !CTL || !VAR) {
  throw new Error('KT_BASE_URL, KT_CTL and KT_TEST_VAR are not set: run scripts/test');
}

function ctl(...args) {
  return execFileSync(CTL, args, { env: { ...process.env, KT_VAR: VAR }, encoding: 'utf8' });
}

const tokenFor = (role, sub, ...more) => ctl('token', 'issue', '--role', role, '--sub', sub, ...more).trim();

// --- test data (as tests/integration/kt_data.py makes it) ----------------------------------------

function snilsCheck(nine) {
  let s = [...nine].reduce((acc, d, i) => acc + Number(d) * (9 - i), 0);
  if (s < 100) return s;
  if (s === 100 || s === 101) return 0;
  s %= 101;
  return s === 100 ? 0 : s;
}

function newSnils() {
  const nine = String(1002000 + Math.floor(Math.random() * 998000000)).padStart(9, '0');
  return nine + String(snilsCheck(nine)).padStart(2, '0');
}

const SCHOOL = '1027700132195';

// A birth date of this run's own, so that the search by name finds this run's student.
const BIRTH = `201${Math.floor(Math.random() * 6)}-${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}-` +
  String(1 + Math.floor(Math.random() * 28)).padStart(2, '0');

function studentDoc(snils, number) {
  return {
    last_name: 'Соколова', first_name: 'Алиса', middle_name: 'Игоревна', sex: 'F',
    birth_date: BIRTH, birth_place: 'г. Казань', snils,
    citizenship: { category: 'RF', countries: ['643'] },
    documents: [{ type: 'BIRTH_CERT_RF', series: 'IV-КБ', number, issuer: 'Отдел ЗАГС', issued_on: '2016-06-01' }],
    addresses: [{ kind: 'REGISTRATION', text: 'г. Казань, ул. Баумана, д. 5' }],
    representatives: [{ kind: 'MOTHER', last_name: 'Соколова', first_name: 'Ольга', phone: '+79001234567' }],
    organization: SCHOOL,
  };
}

// --- the stack and the browser -------------------------------------------------------------------

let api; // Playwright's request context, TLS unchecked (self-signed dev certificate)
let browser;
const seed = {};

async function call(method, url, tok, { data, reason, headers } = {}) {
  const res = await api.fetch(url, {
    method,
    headers: { Authorization: `Bearer ${tok}`, ...(headers || {}) },
    params: reason ? { reason } : undefined,
    data,
  });
  const body = res.status() === 204 ? null : await res.json();
  return { status: res.status(), body };
}

before(async () => {
  api = await request.newContext({ baseURL: BASE, ignoreHTTPSErrors: true });
  const args = ['--lang=ru-RU'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  browser = await chromium.launch({ executablePath: CHROMIUM, args });
  mkdirSync(SHOTS, { recursive: true });

  seed.editor = `editor-${RUN}`;
  seed.reader = `reader-${RUN}`;
  const editor = tokenFor('region', seed.editor);
  seed.auditor = tokenFor('auditor', `auditor-${RUN}`);
  // The school the students name, registered unless an earlier run did it (201 or 409):
  // school tokens work only for active registered organisations (docs/security.md).
  const org = JSON.parse(readFileSync(path.join(REPO, 'docs/examples/organization.json'), 'utf8'));
  const registered = await call('POST', '/api/v1/organizations', editor, { data: org });
  assert.ok([201, 409].includes(registered.status), JSON.stringify(registered.body));
  seed.snils = newSnils();
  seed.number = String(100000 + Math.floor(Math.random() * 899999));
  const created = await call('POST', '/api/v1/students', editor,
    { data: studentDoc(seed.snils, seed.number), reason: 'приказ № 12 от 01.09.2026' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  seed.id = created.body.id;
  const url = `/api/v1/students/${seed.id}`;
  const merge = { 'Content-Type': 'application/merge-patch+json' };
  let r = await call('PATCH', url, editor,
    { data: JSON.stringify({ last_name: 'Морозова', middle_name: null }), reason: 'приказ № 45 от 02.09.2026', headers: merge });
  assert.equal(r.status, 200);
  // A reason a spreadsheet would run as a formula: the CSV must neutralise it.
  r = await call('PATCH', url, editor,
    { data: JSON.stringify({ birth_place: 'г. Набережные Челны' }), reason: '=HYPERLINK("http://x")', headers: merge });
  assert.equal(r.status, 200);
  // A long history, for pagination (the console loads 20 versions a page).
  for (let i = 0; i < 22; i++) {
    r = await call('PATCH', url, editor,
      { data: JSON.stringify({ addresses: [{ kind: 'REGISTRATION', text: `г. Казань, ул. Баумана, д. ${6 + i}` }] }),
        reason: `уточнение адреса ${i + 1}`, headers: merge });
    assert.equal(r.status, 200);
  }
  seed.top = 25;
  // Someone else reads the record.
  r = await call('GET', url, tokenFor('ministry', seed.reader));
  assert.equal(r.status, 200);
});

after(async () => {
  await browser?.close();
  await api?.dispose();
});

async function page() {
  const ctx = await browser.newContext({
    ignoreHTTPSErrors: true, locale: 'ru-RU', timezoneId: 'Europe/Moscow',
    viewport: { width: 1280, height: 900 }, acceptDownloads: true,
  });
  ctx.setDefaultTimeout(60000); // two cores, often shared: generous waits
  const p = await ctx.newPage();
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(e.message));
  p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
  await p.goto(BASE + '/');
  return p;
}

async function signIn(p, tok = seed.auditor) {
  await p.fill('#token', tok);
  await p.click('#login-form button[type=submit]');
  await p.waitForSelector('#app:not([hidden])');
}

// A card is open once its status line says so (the page then focuses and scrolls to it: a
// click before that may miss).
async function cardOpen(p) {
  await p.waitForFunction(() => document.getElementById('status').textContent.startsWith('Открыта карточка'));
}

async function openBySnils(p) {
  await p.fill('#q-snils', seed.snils);
  await p.click('#search-form button[type=submit]');
  await cardOpen(p);
}

const text = (p, sel) => p.locator(sel).innerText();

// --- the tests -----------------------------------------------------------------------------------

test('the page is served with a strict CSP and cache headers', async () => {
  const res = await api.get('/');
  assert.equal(res.status(), 200);
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(res.headers()['cache-control'], 'no-cache');
  const js = await api.get('/js/app.js');
  assert.equal(js.status(), 200);
  assert.match(js.headers()['content-type'], /javascript/);
});

test('school and region tokens are refused, by the page and by the API', async () => {
  const p = await page();
  for (const [role, extra] of [['school', ['--org', SCHOOL]], ['region', []]]) {
    await p.fill('#token', tokenFor(role, `${role}-${RUN}`, ...extra));
    await p.click('#login-form button[type=submit]');
    await p.waitForSelector('#alert:not([hidden])');
    assert.match(await text(p, '#alert'), /Нужна роль «аудитор»/);
    assert.equal(await p.isHidden('#app'), true);
    assert.equal(await p.evaluate(() => sessionStorage.getItem('kt.token')), null);
  }
  await p.screenshot({ path: path.join(SHOTS, 'console-refused.png') });
  const school = tokenFor('school', `school-${RUN}`, '--org', SCHOOL);
  for (const u of ['/api/v1/audit/changes?subject=x', `/api/v1/students/${seed.id}/verify`, '/api/v1/audit/verify/last']) {
    assert.equal((await call('GET', u, school)).status, 403, u);
  }
  await p.context().close();
});

test('the token stays in sessionStorage only, and sign-out forgets it', async () => {
  const p = await page();
  await signIn(p);
  assert.equal(await p.evaluate(() => sessionStorage.getItem('kt.token')), seed.auditor);
  assert.equal(await p.evaluate(() => localStorage.length), 0);
  assert.doesNotMatch(p.url(), /eyJ/);
  await p.reload();
  await p.waitForSelector('#app:not([hidden])'); // the same tab keeps the session
  await p.click('#logout');
  assert.equal(await p.evaluate(() => sessionStorage.getItem('kt.token')), null);
  assert.equal(await p.isVisible('#login'), true);
  await p.context().close();
});

test('search by СНИЛС: the timeline shows versions with who, source, reason and the diff', async () => {
  const p = await page();
  await signIn(p);
  await openBySnils(p);
  assert.equal(await text(p, '#card-h'), 'Морозова Алиса');
  const entries = p.locator('#timeline article');
  assert.equal(await entries.count(), 20);
  // Pagination: the rest of the history.
  assert.equal(await p.isVisible('#timeline-more'), true);
  await p.click('#timeline-more');
  await p.waitForFunction(() => document.querySelectorAll('#timeline article').length === 25);
  assert.equal(await p.isHidden('#timeline-more'), true);
  assert.match(await p.locator('#timeline article').last().innerText(), /Версия 1 — создание/);
  const v2 = p.locator('#timeline article[aria-label="Версия 2"]');
  await v2.scrollIntoViewIfNeeded();
  const t2 = await v2.innerText();
  assert.match(t2, /Версия 2 — изменение/);
  assert.match(t2, new RegExp(`${seed.editor} \\(региональная система\\)`));
  assert.match(t2, /приказ № 45 от 02\.09\.2026/);
  assert.match(t2, /запрос [0-9a-f]{32}/);
  // The diff: before and after, with Russian field names.
  const row = v2.locator('tr', { hasText: 'Фамилия' });
  assert.equal(await row.locator('del').innerText(), 'Соколова');
  assert.equal(await row.locator('ins').innerText(), 'Морозова');
  assert.equal(await v2.locator('tr', { hasText: 'Отчество' }).locator('ins').innerText(), '—');
  await p.evaluate(() => document.getElementById('card-h').scrollIntoView());
  await p.screenshot({ path: path.join(SHOTS, 'console-timeline.png') });
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('search by document and by name and birth date', async () => {
  const p = await page();
  await signIn(p);
  await p.check('input[name=by][value=document]');
  await p.selectOption('#q-doc-type', 'BIRTH_CERT_RF');
  await p.fill('#q-doc-series', 'IV-КБ');
  await p.fill('#q-doc-number', seed.number);
  await p.click('#search-form button[type=submit]');
  await cardOpen(p);
  assert.match(await text(p, '#card-meta'), new RegExp(seed.id));
  await p.check('input[name=by][value=name]');
  await p.fill('#q-last', 'Морозова');
  await p.fill('#q-first', 'Алиса');
  await p.fill('#q-birth', BIRTH);
  await p.click('#search-form button[type=submit]');
  const snils = `${seed.snils.slice(0, 3)}-${seed.snils.slice(3, 6)}-${seed.snils.slice(6, 9)} ${seed.snils.slice(9)}`;
  const row = p.locator('#results tr', { hasText: snils });
  await row.waitFor();
  assert.match(await row.innerText(), new RegExp(`Морозова Алиса\t${BIRTH.split('-').reverse().join('\\.')}`));
  // One hit opens by itself (the page then scrolls to it: wait, or the next click may miss);
  // a rerun against the same store may find more.
  await p.waitForFunction(() => /^(Открыта карточка|Найдено: ([2-9]|\d\d))/.test(document.getElementById('status').textContent));
  if ((await text(p, '#status')).startsWith('Найдено')) await row.locator('button').click();
  await cardOpen(p);
  assert.match(await text(p, '#card-meta'), new RegExp(seed.id));
  await p.check('input[name=by][value=snils]');
  // A valid СНИЛС nobody holds (a fixed one, such as 000-000-000 00, the OpenAPI fuzzer may
  // have registered).
  await p.fill('#q-snils', newSnils());
  await p.click('#search-form button[type=submit]');
  await p.waitForSelector('#results p');
  assert.match(await text(p, '#results'), /Никого не нашли/);
  await p.context().close();
});

test('open a version whole, and compare two versions', async () => {
  const p = await page();
  await signIn(p);
  await openBySnils(p);
  await p.click('#timeline-more');
  await p.waitForFunction(() => document.querySelectorAll('#timeline article').length === 25);
  await p.click('text=Открыть версию 1 целиком');
  await p.waitForSelector('#version-box:not([hidden])');
  assert.equal(await text(p, '#version-h'), 'Версия 1 целиком');
  const whole = await text(p, '#version');
  assert.match(whole, /Фамилия\tСоколова/);
  assert.match(whole, /Документы › 1 › Номер\t/);
  await p.selectOption('#cmp-a', '1');
  await p.selectOption('#cmp-b', '3');
  await p.click('#compare-form button[type=submit]');
  await p.waitForFunction(() => document.getElementById('version-h').textContent === 'Сравнение версий 1 и 3');
  const diff = await text(p, '#version');
  assert.match(diff, /Фамилия\tСоколова\tМорозова/);
  assert.match(diff, /Отчество\tИгоревна\t—/);
  assert.match(diff, /Место рождения\tг\. Казань\tг\. Набережные Челны/);
  assert.doesNotMatch(diff, /Имя\t/); // unchanged members are not listed
  await p.evaluate(() => document.getElementById('version-box').scrollIntoView());
  await p.screenshot({ path: path.join(SHOTS, 'console-compare.png') });
  await p.context().close();
});

test('who read the record, filtered by user and period', async () => {
  const p = await page();
  await signIn(p);
  await openBySnils(p);
  await p.fill('#reads-subject', seed.reader);
  await p.click('#reads-form button[type=submit]');
  await p.waitForFunction((r) => {
    const rows = [...document.querySelectorAll('#reads tbody tr')];
    return rows.length > 0 && rows.every((tr) => tr.children[1].textContent === r);
  }, seed.reader);
  assert.match(await text(p, '#reads'), /министерство/);
  assert.match(await text(p, '#reads'), /карточка/);
  // A period in the future holds nothing.
  await p.fill('#reads-from', '2999-01-01T00:00');
  await p.click('#reads-form button[type=submit]');
  await p.waitForSelector('#reads p');
  assert.match(await text(p, '#reads'), /записей о чтении нет/);
  await p.fill('#reads-from', '');
  await p.fill('#reads-subject', '');
  await p.click('#reads-form button[type=submit]');
  await p.waitForSelector('#reads tbody tr');
  await p.evaluate(() => document.getElementById('reads-h').scrollIntoView());
  await p.screenshot({ path: path.join(SHOTS, 'console-access.png') });
  await p.context().close();
});

test("a user's activity: what they changed and what they read", async () => {
  const p = await page();
  await signIn(p);
  await p.click('nav.tabs [data-view=principal]');
  await p.fill('#p-subject', seed.editor);
  await p.click('#principal-form button[type=submit]');
  await p.waitForFunction((r) => document.getElementById('status').textContent.startsWith(`Пользователь ${r}:`), seed.editor);
  const rows = p.locator('#p-changes tbody tr');
  assert.equal(await rows.count(), 25);
  assert.match(await rows.last().innerText(), /создание/);
  assert.match(await text(p, '#p-changes'), /Фамилия: Соколова → Морозова/);
  await p.fill('#p-subject', seed.reader);
  await p.click('#principal-form button[type=submit]');
  await p.waitForFunction((r) => document.getElementById('status').textContent.startsWith(`Пользователь ${r}:`), seed.reader);
  assert.match(await text(p, '#p-reads'), new RegExp(seed.id));
  assert.match(await text(p, '#p-changes'), /изменений нет/);
  // From the activity to the student.
  await p.click(`#p-reads button:has-text("${seed.id}")`);
  await cardOpen(p);
  await p.click('nav.tabs [data-view=principal]');
  await p.fill('#p-subject', seed.editor);
  await p.click('#principal-form button[type=submit]');
  await p.waitForFunction((r) => document.getElementById('status').textContent.startsWith(`Пользователь ${r}:`), seed.editor);
  await p.screenshot({ path: path.join(SHOTS, 'console-principal.png') });
  await p.context().close();
});

test('chain verification of the student and the last full verify', async () => {
  ctl('verify');
  const p = await page();
  await signIn(p);
  await openBySnils(p);
  await p.click('#chain-run');
  await p.waitForSelector('#chain .verdict');
  assert.match(await text(p, '#chain'), /Цепочка цела/);
  assert.match(await text(p, '#chain'), /Проверено версий: 25/);
  await p.click('nav.tabs [data-view=integrity]');
  await p.waitForSelector('#last .verdict');
  assert.match(await text(p, '#last'), /все цепочки целы/);
  assert.match(await text(p, '#last'), /нарушенных цепочек: 0/);
  await p.screenshot({ path: path.join(SHOTS, 'console-integrity.png') });
  await p.context().close();
});

test('CSV export of the timeline: BOM, quoting, formulas neutralised', async () => {
  const p = await page();
  await signIn(p);
  await openBySnils(p);
  await p.click('#timeline-more'); // the CSV holds what is on screen: all 25 versions
  await p.waitForFunction(() => document.querySelectorAll('#timeline article').length === 25);
  const [download] = await Promise.all([p.waitForEvent('download'), p.click('#timeline-csv')]);
  assert.match(download.suggestedFilename(), /^история-.*\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.ok(csv.startsWith('\uFEFF"Версия";"Время (UTC)";"Действие"'), csv.slice(0, 80));
  const lines = csv.slice(1).trim().split('\r\n');
  assert.ok(lines.some((l) => l.includes('"Фамилия";"Соколова";"Морозова"')));
  assert.ok(lines.some((l) => l.includes(`"'=HYPERLINK(""http://x"")"`)), 'formula not neutralised');
  assert.ok(!lines.some((l) => /;"=/.test(l)));
  const [reads] = await Promise.all([p.waitForEvent('download'), p.click('#reads-csv')]);
  assert.match(readFileSync(await reads.path(), 'utf8'), /^\uFEFF"Время \(UTC\)";"Пользователь"/);
  await p.context().close();
});

test('keyboard only: sign in, search, open a version', async () => {
  const p = await page();
  // The page opens with the token field focused; the skip link is the one thing before it.
  assert.equal(await p.evaluate(() => document.activeElement.id), 'token');
  await p.keyboard.press('Shift+Tab');
  assert.equal(await p.evaluate(() => document.activeElement.className), 'skip');
  assert.equal(await p.isVisible('.skip'), true);
  await p.keyboard.press('Tab');
  await p.keyboard.type(seed.auditor);
  await p.keyboard.press('Enter');
  await p.waitForSelector('#app:not([hidden])');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'student-h');
  await p.keyboard.press('Tab'); // the radio group
  await p.keyboard.press('Tab'); // the СНИЛС field
  assert.equal(await p.evaluate(() => document.activeElement.id), 'q-snils');
  await p.keyboard.type(seed.snils);
  await p.keyboard.press('Enter');
  await p.waitForFunction(() => document.activeElement.id === 'card-h');
  let label = '';
  for (let i = 0; i < 30 && !label.startsWith('Открыть версию'); i++) {
    await p.keyboard.press('Tab');
    label = await p.evaluate(() => document.activeElement.textContent);
  }
  assert.equal(label, `Открыть версию ${seed.top} целиком`);
  const outline = await p.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused button shows no focus ring');
  await p.keyboard.press('Enter');
  await p.waitForFunction(() => document.activeElement.id === 'version-h');
  assert.equal(await text(p, '#version-h'), `Версия ${seed.top} целиком`);
  assert.match(await p.locator('#status').getAttribute('aria-live'), /polite/);
  await p.context().close();
});

// The API's broken verdicts are tested in tests/integration/test_audit.py (a version tampered
// with in the store); here the page is shown such answers, to see that it says so plainly.
test('a broken chain and a failed full verification are shown as such', async () => {
  const p = await page();
  const json = (body) => (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
  await p.route('**/api/v1/students/*/verify', json({
    student_id: seed.id, ok: false, versions: 2, head_lags: false, broken_version: 2,
    problem: 'version 2: content does not match its hash', checked_at: new Date().toISOString(),
  }));
  await p.route('**/api/v1/audit/verify/last', json({
    time: new Date().toISOString(), students: 10, versions: 40, broken: 1, incomplete: 0, ok: false,
    broken_students: [seed.id],
  }));
  await signIn(p);
  await openBySnils(p);
  await p.click('#chain-run');
  await p.waitForSelector('#chain .verdict.bad');
  assert.match(await text(p, '#chain'), /Цепочка нарушена на версии 2/);
  assert.match(await text(p, '#chain'), /content does not match its hash/);
  await p.click('nav.tabs [data-view=integrity]');
  await p.waitForSelector('#last .verdict.bad');
  assert.match(await text(p, '#last'), /нарушены цепочки 1 обучающихся/);
  await p.click(`#last button:has-text("${seed.id}")`);
  await cardOpen(p);
  await p.context().close();
});

test('a token that expires mid-session signs out with a clear message', async () => {
  const p = await page();
  await signIn(p);
  await p.route('**/api/v1/students?*', (route) => route.fulfill({
    status: 401, contentType: 'application/problem+json',
    body: JSON.stringify({ title: 'Требуется аутентификация', status: 401, code: 'UNAUTHENTICATED', request_id: 'r1' }),
  }));
  await p.fill('#q-snils', seed.snils);
  await p.click('#search-form button[type=submit]');
  await p.waitForSelector('#login:not([hidden])');
  assert.match(await text(p, '#alert'), /Токен не принят/);
  assert.equal(await p.evaluate(() => sessionStorage.getItem('kt.token')), null);
  await p.context().close();
});

test('a deleted student opens by id, with the deletion in the timeline', async () => {
  const editor = tokenFor('region', seed.editor);
  const created = await call('POST', '/api/v1/students', editor, { data: studentDoc(newSnils(), String(100000 + Math.floor(Math.random() * 899999))) });
  assert.equal(created.status, 201);
  const id = created.body.id;
  assert.equal((await call('DELETE', `/api/v1/students/${id}`, editor, { reason: 'выбыл в другой регион' })).status, 204);
  const p = await page();
  await signIn(p);
  await p.check('input[name=by][value=id]');
  await p.fill('#q-id', id.toUpperCase());
  await p.click('#search-form button[type=submit]');
  await cardOpen(p);
  assert.match(await text(p, '#card-meta'), /запись удалена/);
  const last = await p.locator('#timeline article').first().innerText();
  assert.match(last, /Версия 2 — удаление/);
  assert.match(last, /выбыл в другой регион/);
  await p.click('#chain-run');
  await p.waitForSelector('#chain .verdict.ok');
  await p.context().close();
});

test('merges and unmerges in the timeline: who, when, why, and a link to the other record', async () => {
  const editor = tokenFor('region', seed.editor);
  const make = async (doc) => {
    const r = await call('POST', '/api/v1/students', editor, { data: doc });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id;
  };
  const survivor = await make(studentDoc(newSnils(), String(100000 + Math.floor(Math.random() * 899999))));
  const duplicate = await make({ ...studentDoc(undefined, String(100000 + Math.floor(Math.random() * 899999))),
    birth_place: 'Казань' });
  const merged = await call('POST', `/api/v1/students/${survivor}/merge`, editor,
    { data: { duplicate, reason: 'дубликат: заявка МО № 12', prefer: { birth_place: 'survivor' } } });
  assert.equal(merged.status, 200, JSON.stringify(merged.body));
  const p = await page();
  await signIn(p);
  await p.check('input[name=by][value=id]');
  await p.fill('#q-id', duplicate);
  await p.click('#search-form button[type=submit]');
  await cardOpen(p);
  assert.match(await text(p, '#card-meta'), /запись объединена с другой/);
  const last = p.locator('#timeline article').first();
  const shown = await last.innerText();
  assert.match(shown, /Версия 2 — объединение: запись присоединена к другой/);
  assert.match(shown, /дубликат: заявка МО № 12/);
  assert.match(shown, new RegExp(`editor-${RUN}`));
  assert.match(shown, new RegExp(`Сохранённая запись\\s+${survivor}`));
  // The link opens the survivor's history, whose merge names the duplicate.
  await last.locator('button.link').click();
  await p.waitForFunction((id) => document.getElementById('card-meta').textContent.includes(id), survivor);
  const top = await p.locator('#timeline article').first().innerText();
  assert.match(top, /Версия 2 — объединение: присоединена запись-дубликат/);
  assert.match(top, new RegExp(`Присоединённая запись\\s+${duplicate}`));
  const unmerged = await call('POST', `/api/v1/students/${survivor}/unmerge`, editor,
    { data: { duplicate, reason: 'объединены ошибочно' } });
  assert.equal(unmerged.status, 200, JSON.stringify(unmerged.body));
  await p.fill('#q-id', survivor);
  await p.click('#search-form button[type=submit]');
  await p.waitForFunction(() => /разъединение/.test(document.querySelector('#timeline article')?.innerText || ''));
  const split = await p.locator('#timeline article').first().innerText();
  assert.match(split, /Версия 3 — разъединение: отделена запись-дубликат/);
  assert.match(split, /объединены ошибочно/);
  assert.match(split, new RegExp(`Отделённая запись\\s+${duplicate}`));
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

// --- Russian for people (docs/i18n.md) ----------------------------------------------------------

test('the whole record reads in Russian in the timeline: education, achievements, exams; times with zone', async () => {
  const editor = tokenFor('region', seed.editor);
  const doc = {
    ...studentDoc(newSnils(), String(100000 + Math.floor(Math.random() * 899999))),
    achievements: [{ kind: 'OLYMPIAD', title: 'Призёр регионального этапа', level: 'REGIONAL',
      result: 'PRIZE_WINNER', place: 3, date: '2025-01-22', document: { number: 'РЭ-17' } }],
    exams: [{ kind: 'OGE', year: 2025, subject: 'Русский язык', score: 31, mark: 5, passed: true }],
  };
  const created = await call('POST', '/api/v1/students', editor, { data: doc, reason: 'приказ № 7' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const sid = created.body.id;
  const order = (date) => ({ number: `${date}-1`, date });
  let r = await call('POST', `/api/v1/students/${sid}/events`, editor, { data: {
    type: 'ENROLL', date: '2024-09-01', order: order('2024-09-01'), organization: SCHOOL, level: 'NOO',
    program: { name: 'ООП НОО', code: 'НОО-1', adapted: false }, form: 'FULL_TIME', financing: 'BUDGET',
    grade: 1, class_letter: 'А' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await call('POST', `/api/v1/students/${sid}/events`, editor,
    { data: { type: 'EXPEL', date: '2025-05-20', order: order('2025-05-20') } });
  assert.equal(r.status, 201, JSON.stringify(r.body));

  const p = await page();
  await signIn(p);
  await p.check('input[name=by][value=id]');
  await p.fill('#q-id', sid);
  await p.click('#search-form button[type=submit]');
  await cardOpen(p);
  const timeline = await text(p, '#timeline');
  assert.match(timeline, /Обучение › 1 › Статус\tобучается\tзавершено/);
  assert.match(timeline, /Обучение › 1 › Причина окончания\t—\tотчисление/);
  await p.locator('#timeline details').last().evaluate((d) => { d.open = true; });
  const first = await p.locator('#timeline article').last().innerText();
  // A creation shows each array whole: its items' members by name.
  assert.match(first, /Достижения\tВид: олимпиада, .*Уровень: региональный, Результат: призёр, Место: 3/);
  assert.match(first, /Экзамены и отметки\tВид: ОГЭ, .*Сдан: да/);
  for (const code of ['PRIZE_WINNER', 'ACTIVE', 'ENDED', 'EXPEL', 'OLYMPIAD', 'true']) {
    assert.ok(!(timeline + first).includes(code), code);
  }
  // Times say their zone (the page runs in Europe/Moscow).
  assert.match(await p.locator('#timeline time').first().innerText(),
    /^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d \(UTC\+03:00\)$/);
  // «Поле» wraps between words, never inside one.
  const broken = await p.evaluate(() => [...document.querySelectorAll('#timeline td:first-child')].some((td) => {
    const range = document.createRange();
    range.selectNodeContents(td);
    const lines = new Set([...range.getClientRects()].map((rc) => Math.round(rc.top)));
    return lines.size > 1 && td.textContent.split(/\s+/).some((w) => {
      const probe = document.createElement('span');
      probe.textContent = w;
      probe.style.whiteSpace = 'nowrap';
      td.append(probe);
      const wide = probe.getBoundingClientRect().width > td.clientWidth;
      probe.remove();
      return wide;
    });
  }));
  assert.equal(broken, false);
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('a failed search leaves no card on screen; a malformed СНИЛС is explained in Russian', async () => {
  const p = await page();
  await signIn(p);
  await openBySnils(p);
  assert.equal(await p.isVisible('#student'), true);
  await p.fill('#q-snils', newSnils());
  await p.click('#search-form button[type=submit]');
  await p.waitForFunction(() => document.getElementById('status').textContent.startsWith('Найдено: 0'));
  assert.equal(await p.isHidden('#student'), true);
  await openBySnils(p);
  await p.fill('#q-snils', '123');
  await p.click('#search-form button[type=submit]');
  await p.waitForSelector('#alert:not([hidden])');
  assert.match(await text(p, '#alert'), /СНИЛС: 11 цифр или XXX-XXX-XXX YY/);
  assert.equal(await p.isHidden('#student'), true);
  // The browser logs the refused request (400) itself; nothing else went wrong.
  assert.deepEqual(p.errors.filter((e) => !/status of 400/.test(e)), []);
  await p.context().close();
});

test('«Что читал»: the students of one read are separate', async () => {
  const subject = `lister-${RUN}`;
  const r = await call('GET', `/api/v1/students?organization=${SCHOOL}&limit=2`, tokenFor('region', subject));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.items.length, 2);
  const p = await page();
  await signIn(p);
  await p.click('nav.tabs [data-view=principal]');
  await p.fill('#p-subject', subject);
  await p.click('#principal-form button[type=submit]');
  await p.waitForFunction((s) => document.getElementById('status').textContent.startsWith(`Пользователь ${s}:`), subject);
  const ids = p.locator('#p-reads ul.ids li');
  assert.equal(await ids.count(), 2);
  const cell = await p.locator('#p-reads ul.ids').first().innerText();
  assert.deepEqual(cell.split('\n').map((s) => s.trim()).filter(Boolean).sort(),
    r.body.items.map((s) => s.id).sort());
  await p.context().close();
});
