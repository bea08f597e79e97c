// The console's pure modules (web/js/csv.js, diff.js, labels.js, codes.js)
// without a browser. They are loaded from their source as it is served (web/
// is not a Node package); a module's relative imports are loaded the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

const source = (name) => readFileSync(new URL(`../../web/js/${name}`, import.meta.url), 'utf8');
const dataUrl = (name) => 'data:text/javascript;base64,' + Buffer.from(
  source(name).replace(/from '\.\/([a-z]+\.js)'/g, (_, dep) => `from '${dataUrl(dep)}'`)).toString('base64');
const load = (name) => import(dataUrl(name));
const { cell, csv } = await load('csv.js');
const { compare, flatten, withoutHealth, changesWithoutHealth } = await load('diff.js');
const { FIELDS, ROLES, csvTime, listOf, pointerLabel, timeText, valueText } = await load('labels.js');
const { CODES } = await load('codes.js');

test('csv: BOM, CRLF, ";" between quoted cells, quotes doubled', () => {
  const out = csv(['Поле', 'Было'], [['Фамилия', 'Иванова "старшая"'], ['Пусто', null]]);
  assert.equal(out, '\uFEFF"Поле";"Было"\r\n"Фамилия";"Иванова ""старшая"""\r\n"Пусто";""\r\n');
});

test('csv: cells a spreadsheet would run as formulas are neutralised', () => {
  for (const s of ['=1+2', '+7 900', '-2', '@SUM(A1)', '\tx', '\rx']) assert.equal(cell(s)[1], "'", s);
  assert.equal(cell('приказ = 5'), '"приказ = 5"');
  assert.equal(cell(25), '"25"');
});

test('diff: leaves by JSON Pointer, escaped', () => {
  const m = flatten({ a: { 'b/c': 1, 'd~': [2, []] } });
  assert.deepEqual([...m], [['/a/b~1c', 1], ['/a/d~0/0', 2], ['/a/d~0/1', []]]);
});

test('diff: compare lists what differs, absent members as null, bookkeeping ignored', () => {
  const a = { id: 'x', version: 1, last_name: 'Иванова', middle_name: 'Петровна', documents: [{ number: '1' }] };
  const b = { id: 'x', version: 3, last_name: 'Петрова', documents: [{ number: '1' }, { number: '2' }] };
  assert.deepEqual(compare(a, b), [
    { pointer: '/last_name', a: 'Иванова', b: 'Петрова' },
    { pointer: '/middle_name', a: 'Петровна', b: null },
    { pointer: '/documents/1/number', a: null, b: '2' },
  ]);
});

test('health data stays hidden without the health scope', () => {
  const doc = { last_name: 'Иванова', health: { group: 'II' } };
  assert.deepEqual(withoutHealth(doc, []), { last_name: 'Иванова' });
  assert.deepEqual(withoutHealth(doc, ['health']), doc);
  const changes = [{ pointer: '/health/group', old: 'I', new: 'II' }, { pointer: '/healthy', old: 1, new: 2 },
    { pointer: '/last_name', old: 'a', new: 'b' }];
  assert.deepEqual(changesWithoutHealth(changes, []).map((c) => c.pointer), ['/healthy', '/last_name']);
  assert.equal(changesWithoutHealth(changes, ['health']).length, 3);
});

test('labels: beyond phase 1, paths and codes read in Russian', () => {
  assert.equal(pointerLabel('/education/0/status'), 'Обучение › 1 › Статус');
  assert.equal(valueText('ACTIVE', '/education/0/status'), 'обучается');
  assert.equal(valueText('ENDED', '/education/0/status'), 'завершено');
  assert.equal(valueText('PRIZE_WINNER', '/achievements/0/result'), 'призёр');
  assert.equal(pointerLabel('/exams/0/passed'), 'Экзамены и отметки › 1 › Сдан');
  assert.equal(valueText(true, '/exams/0/passed'), 'да');
  assert.equal(valueText('TRANSFER_OUT', '/education/1/events/2/type'), 'выбытие в другую организацию');
  assert.equal(valueText('FULL_TIME', '/education/0/form'), 'очная');
  assert.equal(valueText('BIRTH_CERT_RF', '/documents/0/type'), 'свидетельство о рождении РФ');
  assert.equal(valueText('MOTHER', '/representatives/0/kind'), 'мать');
  assert.equal(valueText('REGISTRATION', '/addresses/0/kind'), 'адрес регистрации');
  assert.equal(valueText('F', 'sex'), 'женский');
  assert.equal(valueText({ category: 'RF', countries: ['643'] }, '/citizenship'),
    'Категория: гражданин РФ, Страны (ОКСМ): 643');
  assert.equal(valueText('2026-09-20', '/education/0/enrolled_on'), '20.09.2026');
  // A value that is no code stays as it is.
  assert.equal(valueText('ACTIVE', '/last_name'), 'ACTIVE');
});

test('labels: every member of the model has a Russian title', () => {
  const model = new URL('../../model/', import.meta.url);
  const names = new Set();
  for (const f of readdirSync(model).filter((n) => n.endsWith('.c'))) {
    const src = readFileSync(new URL(f, model), 'utf8');
    for (const m of src.matchAll(/FIELD_[A-Z_]+\("([a-z_]+)"/g)) names.add(m[1]);
    const ep = src.match(/episode_names\[EP__MAX\] = \{([^}]*)\}/);
    if (ep) for (const m of ep[1].matchAll(/"([a-z_]+)"/g)) names.add(m[1]);
  }
  assert.ok(names.size > 80, `only ${names.size} members found`);
  assert.deepEqual([...names].filter((n) => !FIELDS[n]), []);
});

test('labels: the code lists the console names exist in the catalogue copy', () => {
  const pointers = ['/sex', '/citizenship/category', '/documents/0/type', '/addresses/0/kind',
    '/representatives/0/kind', '/education/0/status', '/education/0/end_reason', '/education/0/level',
    '/education/0/form', '/education/0/financing', '/education/0/events/0/type', '/state',
    '/health/health_group', '/health/pe_group', '/health/disability/group', '/health/disability/reason',
    '/health/long_term_treatment/training_form', '/health/legal_basis/kind', '/achievements/0/kind',
    '/achievements/0/level', '/achievements/0/result', '/achievements/0/badge', '/exams/0/kind',
    '/certificates/0/type'];
  for (const p of pointers) assert.ok(CODES[listOf(p)], p);
  for (const [list, codes] of Object.entries(CODES)) {
    for (const [code, names] of Object.entries(codes)) {
      assert.ok(names.length === 2 && names[0] && names[1], `${list}.${code}`);
    }
  }
});

test('labels: times say their zone; CSV times are what a spreadsheet reads', () => {
  assert.match(timeText('2026-09-20T11:05:03.123Z'), /^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d \(UTC[+−]\d\d:\d\d\)$/);
  assert.equal(csvTime('2026-09-20T11:05:03.123Z'), '20.09.2026 11:05:03');
  assert.equal(timeText(null), '—');
});

test('labels: every role of the service has a Russian name', () => {
  const src = readFileSync(new URL('../../auth/principal.c', import.meta.url), 'utf8');
  const roles = [...src.matchAll(/\[ROLE_[A-Z_]+\] = "([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(roles.length >= 7, roles.join());
  assert.deepEqual(roles.filter((r) => !ROLES[r]), []);
});
