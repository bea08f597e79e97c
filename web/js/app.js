// app: the auditor's console. Sign-in with a token, then three views:
// a student (search, timeline of versions with their changes, one version
// whole, two versions compared, who read the record, the chain check), what a
// user read and changed in a period, and the last full verification.
import * as api from './api.js';
import { $, h, clear, table } from './dom.js';
import { compare, flatten, withoutHealth, changesWithoutHealth } from './diff.js';
import { download } from './csv.js';
import {
  ACTIONS, DOCUMENT_TYPES, READS, ROLES, csvTime, fullName, linkOf, pointerKey, pointerLabel,
  principalText, stateText,
  sourceText, timeText, valueText,
} from './labels.js';

const PAGE = 20;
const LOG_PAGE = 50;
const AUDIT_ROLES = ['auditor', 'admin'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const state = { me: null, student: null, reads: null, pchanges: null, preads: null, shown: null };

// --- messages -------------------------------------------------------------------------------

function say(text) {
  $('status').textContent = text;
}

function alarm(text) {
  const el = $('alert');
  el.textContent = text;
  el.hidden = !text;
}

// Runs an action: clears the alert, reports failures in Russian, signs out on 401.
async function run(what, fn) {
  alarm('');
  say(what + '…');
  try {
    await fn();
  } catch (err) {
    say('');
    alarm(api.describe(err));
    if (err instanceof api.ApiError && err.status === 401) signOut(false);
  }
}

const scopes = () => (state.me ? state.me.scopes : []);

// --- sign-in --------------------------------------------------------------------------------

async function signIn(tok) {
  let me;
  try {
    me = await api.get('/whoami', null, tok);
  } catch (err) {
    api.token.clear();
    alarm(err instanceof api.ApiError && err.status === 401
      ? 'Токен не принят: он истёк, подписан чужим ключом или введён с ошибкой.'
      : api.describe(err));
    return;
  }
  if (!AUDIT_ROLES.includes(me.role)) {
    api.token.clear();
    alarm(`Этот токен не даёт доступа к консоли: его роль — «${ROLES[me.role] || me.role}». ` +
      'Нужна роль «аудитор» (или «администратор»).');
    return;
  }
  api.token.set(tok);
  state.me = me;
  alarm('');
  $('token').value = '';
  $('who').textContent = `${me.subject} — ${ROLES[me.role]}` +
    (me.scopes.includes('health') ? ', доступ к сведениям о здоровье' : '');
  $('session').hidden = false;
  $('login').hidden = true;
  $('app').hidden = false;
  showView('student');
  say('Вход выполнен.');
}

function signOut(clearMessage = true) {
  api.token.clear();
  Object.assign(state, { me: null, student: null, reads: null, pchanges: null, preads: null, shown: null });
  $('app').hidden = true;
  $('session').hidden = true;
  $('login').hidden = false;
  for (const id of ['results', 'timeline', 'reads', 'chain', 'version', 'p-changes', 'p-reads', 'last']) clear($(id));
  $('student').hidden = true;
  if (clearMessage) alarm('');
  say('Вы вышли.');
  $('token').focus();
}

// --- views ----------------------------------------------------------------------------------

const HEADINGS = { student: 'student-h', principal: 'principal-h', integrity: 'integrity-h' };

function showView(name) {
  for (const v of Object.keys(HEADINGS)) $('view-' + v).hidden = v !== name;
  for (const b of document.querySelectorAll('nav.tabs [data-view]')) {
    if (b.dataset.view === name) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  $(HEADINGS[name]).focus();
  if (name === 'integrity') run('Загрузка итога проверки', loadLastRun);
}

// --- search ---------------------------------------------------------------------------------

function searchParams(form) {
  const by = form.elements.by.value;
  const v = (name) => form.elements[name].value.trim();
  if (by === 'snils') return { snils: v('snils') };
  if (by === 'document') {
    return { document_type: v('document_type'), document_series: v('document_series'), document_number: v('document_number') };
  }
  return { last_name: v('last_name'), first_name: v('first_name'), birth_date: v('birth_date') };
}

// Hides the card of the child shown before: a new search, found or not, never
// leaves the previous child on screen.
function closeCard() {
  state.student = null;
  state.reads = null;
  state.shown = null;
  $('student').hidden = true;
  $('view-student').classList.remove('has-card');
  for (const id of ['timeline', 'reads', 'chain', 'version']) clear($(id));
  $('version-box').hidden = true;
}

async function search(form) {
  const by = form.elements.by.value;
  closeCard();
  clear($('results'));
  if (by === 'id') {
    const id = form.elements.id.value.trim().toLowerCase();
    if (!UUID.test(id)) {
      say('');
      return alarm('Идентификатор записи — это UUID вида 8f37c988-5b1e-4c2a-9d3f-0a1b2c3d4e5f.');
    }
    return openStudent(id);
  }
  const params = searchParams(form);
  if (Object.entries(params).some(([k, x]) => x === '' && k !== 'document_series')) {
    alarm('Заполните поля поиска.');
    say('');
    return;
  }
  const found = await api.get('/students', { ...params, limit: 50 });
  const box = clear($('results'));
  say(`Найдено: ${found.items.length}.`);
  if (found.items.length === 0) {
    box.append(h('p', {}, 'Никого не нашли. Проверьте написание: поиск по ФИО точный, с учётом регистра.'));
    return;
  }
  box.append(table('Найденные обучающиеся', ['ФИО', 'Дата рождения', 'СНИЛС', 'Организация', ''],
    found.items.map((s) => [fullName(s), valueText(s.birth_date), valueText(s.snils, 'snils'), s.organization,
      h('button', { type: 'button', onclick: () => run('Загрузка истории', () => openStudent(s.id)) }, 'Открыть')])));
  if (found.items.length === 1) await openStudent(found.items[0].id);
}

// --- a student ------------------------------------------------------------------------------

async function openStudent(id) {
  const page = await api.get(`/students/${id}/history`, { limit: PAGE });
  const top = page.items[0].version;
  const doc = withoutHealth(await api.get(`/students/${id}/versions/${top}`), scopes());
  state.student = { id, doc, top, entries: page.items, cursor: page.next_cursor };
  showView('student');
  $('student').hidden = false;
  $('view-student').classList.add('has-card');
  $('card-h').textContent = fullName(doc);
  $('card-meta').textContent = [
    `дата рождения ${valueText(doc.birth_date)}`,
    doc.snils ? `СНИЛС ${valueText(doc.snils, 'snils')}` : 'без СНИЛС',
    `ОГРН организации ${doc.organization}`,
    `версий: ${top}`,
    stateText(doc.state),
    `идентификатор ${id}`,
  ].join(' · ');
  fillCompare(top);
  clear($('chain'));
  $('version-box').hidden = true;
  renderTimeline();
  await loadReads(true);
  say(`Открыта карточка: версий ${top}, показано ${state.student.entries.length}.`);
  $('card-h').focus();
}

function fillCompare(top) {
  for (const [id, chosen] of [['cmp-a', Math.max(1, top - 1)], ['cmp-b', top]]) {
    const sel = clear($(id));
    for (let v = top; v >= 1; v--) sel.append(h('option', { value: v, selected: v === chosen }, `№ ${v}`));
  }
}

function changeRows(changes) {
  return changesWithoutHealth(changes, scopes()).map((c) =>
    [pointerLabel(c.pointer), valueText(c.old, c.pointer), valueText(c.new, c.pointer)]);
}

function changesTable(e, rows) {
  if (rows.length === 0) return h('p', {}, 'Данные не изменились.');
  // A creation has nothing before it: its fields and their values.
  if (e.kind === 'create') return table(null, ['Поле', 'Значение'], rows.map(([f, , n]) => [f, n]));
  return table(null, ['Поле', 'Было', 'Стало'], rows.map(([f, o, n]) => [f, h('del', {}, o), h('ins', {}, n)]));
}

function renderEntry(e) {
  const rows = changeRows(e.changes);
  const changes = changesTable(e, rows);
  const open = h('button', { type: 'button', onclick: () => run('Загрузка версии', () => openVersion(e.version)) },
    `Открыть версию ${e.version} целиком`);
  return h('article', { class: `entry kind-${e.kind}`, 'aria-label': `Версия ${e.version}` },
    h('h4', {}, `Версия ${e.version} — ${ACTIONS[e.kind] || e.kind}`),
    h('dl', { class: 'meta' },
      h('dt', {}, 'Время'), h('dd', {}, h('time', { datetime: e.time }, timeText(e.time))),
      h('dt', {}, 'Кто'), h('dd', {}, principalText(e.principal)),
      h('dt', {}, 'Источник'), h('dd', {}, sourceText(e.source)),
      h('dt', {}, 'Основание'), h('dd', {}, e.reason || 'не указано'),
      ...linkRow(e)),
    e.kind === 'create' ? h('details', {}, h('summary', {}, `Начальные данные (${rows.length} полей)`), changes) : changes,
    h('p', { class: 'noprint' }, open));
}

// A merge or unmerge names the other record: a link that opens its history.
function linkRow(e) {
  const link = linkOf(e);
  return link ? [h('dt', {}, link.label), h('dd', {}, studentButton(link.id))] : [];
}

function renderTimeline() {
  const s = state.student;
  clear($('timeline')).append(...s.entries.map(renderEntry));
  $('timeline-more').hidden = !s.cursor;
}

async function moreTimeline() {
  const s = state.student;
  const page = await api.get(`/students/${s.id}/history`, { limit: PAGE, cursor: s.cursor });
  const first = s.entries.length;
  s.entries.push(...page.items);
  s.cursor = page.next_cursor;
  renderTimeline();
  say(`Показано версий: ${s.entries.length} из ${s.top}.`);
  const next = $('timeline').children[first];
  if (next) next.querySelector('button').focus();
}

function timelineCsv() {
  const s = state.student;
  const rows = [];
  for (const e of s.entries) {
    const base = [e.version, csvTime(e.time), ACTIONS[e.kind] || e.kind, e.principal.subject,
      ROLES[e.principal.role] || e.principal.role, sourceText(e.source), e.reason || ''];
    const link = linkOf(e);
    const other = link ? `${link.label}: ${link.id}` : '';
    const changes = changeRows(e.changes);
    if (changes.length === 0) rows.push([...base, '', '', '', other]);
    for (const c of changes) rows.push([...base, ...c, other]);
  }
  download(`история-${s.id}.csv`,
    ['Версия', 'Время (UTC)', 'Действие', 'Пользователь', 'Роль', 'Источник', 'Основание', 'Поле', 'Было', 'Стало',
      'Связанная запись'], rows);
}

function showBox(title, headers, rows, csvName) {
  state.shown = { headers, rows, csvName };
  $('version-box').hidden = false;
  $('version-h').textContent = title;
  clear($('version')).append(rows.length ? table(null, headers, rows) : h('p', {}, 'Версии совпадают.'));
  $('version-h').focus();
}

async function openVersion(n) {
  const s = state.student;
  const doc = withoutHealth(await api.get(`/students/${s.id}/versions/${n}`), scopes());
  const rows = [...flatten(doc)].map(([p, v]) => [pointerLabel(p), valueText(v, p)]);
  showBox(`Версия ${n} целиком`, ['Поле', 'Значение'], rows, `версия-${n}-${s.id}.csv`);
  say(`Открыта версия ${n}.`);
}

async function compareVersions() {
  const s = state.student;
  const a = Number($('cmp-a').value);
  const b = Number($('cmp-b').value);
  const [da, db] = await Promise.all([a, b].map((n) => api.get(`/students/${s.id}/versions/${n}`)));
  const rows = compare(withoutHealth(da, scopes()), withoutHealth(db, scopes()))
    .map((d) => [pointerLabel(d.pointer), valueText(d.a, d.pointer), valueText(d.b, d.pointer)]);
  showBox(`Сравнение версий ${a} и ${b}`, ['Поле', `Версия ${a}`, `Версия ${b}`], rows,
    `сравнение-${a}-${b}-${s.id}.csv`);
  say(`Сравнение версий ${a} и ${b}: различий ${rows.length}.`);
}

// --- access log -----------------------------------------------------------------------------

// A datetime-local value (the browser's time zone) as UTC for the API.
function utc(id) {
  const v = $(id).value;
  return v ? new Date(v).toISOString() : undefined;
}

const READ_HEADERS = ['Время', 'Пользователь', 'Роль', 'Организация', 'Что читал', 'Запрос'];

function readRow(e) {
  return [timeText(e.time), e.principal.subject, ROLES[e.principal.role] || e.principal.role,
    e.principal.organization || '—', READS[e.what] || e.what, e.request_id];
}

async function loadReads(fresh) {
  const s = state.student;
  if (fresh) {
    state.reads = { items: [], cursor: null,
      filter: { student: s.id, subject: $('reads-subject').value.trim(), from: utc('reads-from'), to: utc('reads-to') } };
  }
  const r = state.reads;
  const page = await api.get('/audit/access', { ...r.filter, limit: LOG_PAGE, cursor: r.cursor });
  r.items.push(...page.items);
  r.cursor = page.next_cursor;
  clear($('reads')).append(r.items.length ? table(null, READ_HEADERS, r.items.map(readRow))
    : h('p', {}, 'За этот период записей о чтении нет.'));
  $('reads-more').hidden = !r.cursor;
  say(`Записей о чтении: ${r.items.length}${r.cursor ? ' (есть ещё)' : ''}.`);
}

function readsCsv() {
  const rows = state.reads.items.map((e) => [csvTime(e.time), ...readRow(e).slice(1)]);
  download(`чтения-${state.student.id}.csv`, ['Время (UTC)', ...READ_HEADERS.slice(1)], rows);
}

// --- the chain ------------------------------------------------------------------------------

function verdict(ok, title, lines) {
  return h('div', { class: ok ? 'verdict ok' : 'verdict bad' },
    h('p', { class: 'verdict-title' }, (ok ? '✓ ' : '✗ ') + title), lines.map((l) => h('p', {}, l)));
}

async function checkChain() {
  const r = await api.get(`/students/${state.student.id}/verify`);
  const lines = [`Проверено версий: ${r.versions}. Время проверки: ${timeText(r.checked_at)}.`];
  if (r.head_lags) lines.push('Заголовок записи отстаёт от последней версии (прерванная запись; её завершит kontingentctl repair). Цепочку это не нарушает.');
  if (!r.ok) lines.push(`Подробности: ${r.problem}.`);
  clear($('chain')).append(r.ok
    ? verdict(true, 'Цепочка цела: каждая версия совпадает со своим хешем и ссылается на предыдущую.', lines)
    : verdict(false, `Цепочка нарушена на версии ${r.broken_version}: данные изменены в обход системы.`, lines));
  say(r.ok ? 'Цепочка цела.' : `Цепочка нарушена на версии ${r.broken_version}.`);
}

async function loadLastRun() {
  const box = clear($('last'));
  let r;
  try {
    r = await api.get('/audit/verify/last');
  } catch (err) {
    if (!(err instanceof api.ApiError) || err.status !== 404) throw err;
    box.append(h('p', { class: 'verdict none' }, 'Полная проверка ещё не выполнялась. Попросите оператора запустить kontingentctl verify.'));
    say('Полная проверка ещё не выполнялась.');
    return;
  }
  const lines = [`Запуск: ${timeText(r.time)}. Обучающихся: ${r.students}, версий: ${r.versions}, ` +
    `нарушенных цепочек: ${r.broken}, незавершённых записей: ${r.incomplete}.`];
  const el = r.ok ? verdict(true, 'Последняя полная проверка: все цепочки целы.', lines)
    : verdict(false, `Последняя полная проверка: нарушены цепочки ${r.broken} обучающихся.`, lines);
  if (r.broken_students.length) {
    el.append(h('ul', {}, r.broken_students.map((id) => h('li', {}, studentButton(id)))));
  }
  box.append(el);
  say(r.ok ? 'Последняя проверка: все цепочки целы.' : `Последняя проверка: нарушено цепочек ${r.broken}.`);
}

// --- a user's activity ----------------------------------------------------------------------

function studentButton(id) {
  return h('button', { type: 'button', class: 'link', onclick: () => run('Загрузка истории', () => openStudent(id)) }, id);
}

function changesText(changes) {
  return changeRows(changes).map(([f, o, n]) => `${f}: ${o} → ${n}`).join('; ');
}

const CHANGE_HEADERS = ['Время', 'Обучающийся', 'Версия', 'Действие', 'Источник', 'Основание', 'Изменения'];

function changeRow(e, forCsv) {
  return [forCsv ? csvTime(e.time) : timeText(e.time), forCsv ? e.student_id : studentButton(e.student_id), e.version,
    ACTIONS[e.kind] || e.kind, sourceText(e.source), e.reason || '', changesText(e.changes)];
}

function pReadRow(e, forCsv) {
  // Each id a button of its own, one a line: ids side by side read as one.
  return [forCsv ? csvTime(e.time) : timeText(e.time), READS[e.what] || e.what,
    forCsv ? e.students.join(', ') : h('ul', { class: 'ids' }, e.students.map((id) => h('li', {}, studentButton(id)))),
    e.request_id];
}

const PREAD_HEADERS = ['Время', 'Что читал', 'Обучающиеся', 'Запрос'];

async function loadPrincipal(which, fresh) {
  if (fresh) {
    const filter = { subject: $('p-subject').value.trim(), from: utc('p-from'), to: utc('p-to') };
    state.pchanges = { items: [], cursor: null, filter };
    state.preads = { items: [], cursor: null, filter };
  }
  // Both lists at once, each shown as soon as it comes (the changes can take a while on the
  // embedded store: docs/console.md).
  const kinds = which ? [which] : ['pchanges', 'preads'];
  if (fresh) for (const k of kinds) clear($(k === 'pchanges' ? 'p-changes' : 'p-reads')).append(h('p', {}, 'Загрузка…'));
  await Promise.all(kinds.map(async (k) => {
    const s = state[k];
    const page = await api.get(k === 'pchanges' ? '/audit/changes' : '/audit/access',
      { ...s.filter, limit: LOG_PAGE, cursor: s.cursor });
    s.items.push(...page.items);
    s.cursor = page.next_cursor;
    renderPrincipal(k);
  }));
  const c = state.pchanges;
  const r = state.preads;
  say(`Пользователь ${c.filter.subject}: изменений ${c.items.length}${c.cursor ? '+' : ''}, ` +
    `чтений ${r.items.length}${r.cursor ? '+' : ''}.`);
}

function renderPrincipal(k) {
  const s = state[k];
  const [box, headers, row, none] = k === 'pchanges'
    ? ['p-changes', CHANGE_HEADERS, changeRow, 'За этот период изменений нет.']
    : ['p-reads', PREAD_HEADERS, pReadRow, 'За этот период чтений нет.'];
  clear($(box)).append(s.items.length ? table(null, headers, s.items.map((e) => row(e, false))) : h('p', {}, none));
  $(box + '-more').hidden = !s.cursor;
}

// --- wiring ---------------------------------------------------------------------------------

function on(id, event, what, fn) {
  $(id).addEventListener(event, (ev) => {
    if (event === 'submit') ev.preventDefault();
    run(what, () => fn(ev));
  });
}

function needs(key, fn) {
  return () => (state[key] ? fn() : alarm('Сначала загрузите данные.'));
}

function wire() {
  const sel = $('q-doc-type');
  for (const [code, text] of Object.entries(DOCUMENT_TYPES)) sel.append(h('option', { value: code }, text));
  $('search-form').addEventListener('change', (ev) => {
    if (ev.target.name !== 'by') return;
    for (const f of document.querySelectorAll('#search-form .fields')) f.hidden = f.dataset.by !== ev.target.value;
  });
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    signIn($('token').value.trim());
  });
  $('logout').addEventListener('click', () => signOut());
  $('print').addEventListener('click', () => window.print());
  // A report shows the initial data of version 1 too.
  window.addEventListener('beforeprint', () => {
    for (const d of document.querySelectorAll('#timeline details')) d.open = true;
    const me = state.me;
    $('print-meta').textContent = `Контингент — отчёт аудитора. Сформирован ${timeText(new Date().toISOString())}` +
      (me ? `, пользователь ${me.subject} (${ROLES[me.role]}).` : '.');
  });
  for (const b of document.querySelectorAll('nav.tabs [data-view]')) b.addEventListener('click', () => showView(b.dataset.view));
  on('search-form', 'submit', 'Поиск', (ev) => search(ev.target));
  on('timeline-more', 'click', 'Загрузка версий', moreTimeline);
  on('compare-form', 'submit', 'Сравнение', compareVersions);
  on('reads-form', 'submit', 'Загрузка журнала', () => loadReads(true));
  on('reads-more', 'click', 'Загрузка журнала', () => loadReads(false));
  on('chain-run', 'click', 'Проверка цепочки', checkChain);
  on('last-run', 'click', 'Загрузка итога проверки', loadLastRun);
  on('principal-form', 'submit', 'Загрузка действий', () => loadPrincipal(null, true));
  on('p-changes-more', 'click', 'Загрузка изменений', () => loadPrincipal('pchanges', false));
  on('p-reads-more', 'click', 'Загрузка чтений', () => loadPrincipal('preads', false));
  $('timeline-csv').addEventListener('click', needs('student', timelineCsv));
  $('reads-csv').addEventListener('click', needs('reads', readsCsv));
  $('version-csv').addEventListener('click', needs('shown', () => {
    const s = state.shown;
    download(s.csvName, s.headers, s.rows);
  }));
  $('version-close').addEventListener('click', () => {
    $('version-box').hidden = true;
    $('timeline-h').focus();
  });
  $('p-changes-csv').addEventListener('click', needs('pchanges', () => download(
    `изменения-${state.pchanges.filter.subject}.csv`, CHANGE_HEADERS.map((t, i) => (i ? t : 'Время (UTC)')),
    state.pchanges.items.map((e) => changeRow(e, true)))));
  $('p-reads-csv').addEventListener('click', needs('preads', () => download(
    `чтения-${state.preads.filter.subject}.csv`, PREAD_HEADERS.map((t, i) => (i ? t : 'Время (UTC)')),
    state.preads.items.map((e) => pReadRow(e, true)))));
}

wire();
const saved = api.token.get();
if (saved) signIn(saved);
else $('token').focus();
