// The console's pure modules (web/js/csv.js, web/js/diff.js) without a
// browser. They are loaded from their source as it is served (web/ is not a
// Node package).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const load = (name) => import('data:text/javascript,' + encodeURIComponent(
  readFileSync(new URL(`../../web/js/${name}`, import.meta.url), 'utf8')));
const { cell, csv } = await load('csv.js');
const { compare, flatten, withoutHealth, changesWithoutHealth } = await load('diff.js');

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
