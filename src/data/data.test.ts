import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, field, readRecords, renderTemplate, validationSplit } from './index.js';
import { emailText } from './tasks/spam.js';
import { passages } from './task.js';

const file = (name: string, text: string) => {
  const p = join(mkdtempSync(join(tmpdir(), 'peft-ts-data-')), name);
  writeFileSync(p, text);
  return p;
};

test('JSONL, JSON and CSV read the same records', () => {
  const want = [
    { prompt: 'a, "b"', completion: 'c\nd' },
    { prompt: 'e', completion: 'f' },
  ];
  const jsonl = readRecords(file('d.jsonl', want.map((r) => JSON.stringify(r)).join('\n') + '\n\n'));
  const json = readRecords(file('d.json', JSON.stringify(want)));
  const csv = readRecords(file('d.csv', 'prompt,completion\n"a, ""b""","c\nd"\r\ne,f\n'));
  for (const got of [jsonl, json, csv])
    assert.deepEqual(
      got.map((r) => r.fields),
      want,
    );
  assert.deepEqual(
    csv.map((r) => r.line),
    [2, 4],
  );
});

test('a byte-order mark (as Excel and Notepad write) is not part of the first field name', () => {
  const want = [{ prompt: 'a', completion: 'b' }];
  const bom = '\ufeff';
  for (const [name, text] of [
    ['d.csv', 'prompt,completion\na,b\n'],
    ['d.jsonl', JSON.stringify(want[0])],
    ['d.json', JSON.stringify(want)],
  ]) {
    assert.deepEqual(
      readRecords(file(name, bom + text)).map((r) => r.fields),
      want,
      name,
    );
  }
});

test('bad data names the file and line', () => {
  assert.throws(
    () => readRecords(file('bad.jsonl', '{"prompt": "x"}\n{not json}\n')),
    (e: unknown) => e instanceof DataError && /bad\.jsonl:2: not valid JSON/.test(e.message),
  );
  assert.throws(() => readRecords(file('arr.jsonl', '[1, 2]\n')), /arr\.jsonl:1: expected a JSON object/);
  assert.throws(() => readRecords(file('empty.jsonl', '\n\n')), /holds no records/);
  assert.throws(() => readRecords(file('short.csv', 'a,b\n1\n')), /short\.csv:2: 1 fields where the header has 2/);
  assert.throws(() => readRecords(file('open.csv', 'a\n"never closed\n')), /never closed/);
  assert.throws(() => readRecords(file('x.txt', 'hello')), /unknown format '\.txt'/);
  const [record] = readRecords(file('m.jsonl', '{"question": "q"}\n'));
  assert.throws(
    () => field(record, 'answer'),
    (e: unknown) => e instanceof DataError && /m\.jsonl:1: missing field 'answer' \(fields: question\)/.test(e.message),
  );
  assert.equal(renderTemplate('Q: {question}\nA: {{literal}}', record), 'Q: q\nA: {literal}');
});

test('the validation split is seeded, disjoint and complete', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  const a = validationSplit(items, 0.2, 1),
    b = validationSplit(items, 0.2, 1),
    c = validationSplit(items, 0.2, 2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.validation, c.validation);
  assert.equal(a.validation.length, 10);
  assert.deepEqual(
    [...a.train, ...a.validation].sort((x, y) => x - y),
    items,
  );
});

test('emails become subject + plain body; passages break after sentences', () => {
  const raw = 'From: x\nSubject: Cheap\n  meds now\nContent-Type: text/html\n\n<html><body><p>Buy&nbsp;now &amp; save</p><script>evil()</script></body></html>';
  assert.deepEqual(emailText(raw), { from: 'x', subject: 'Cheap meds now', body: 'Buy now & save' });
  const mime =
    'From: a@b.c\nSubject: s\n\nThis is a multi-part message in MIME format.\n------=_Part_1\nContent-Type: text/plain;\n  charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\nCaf=E9 opens to=\nday\n------=_Part_1--\n';
  assert.equal(emailText(mime).body, 'Caf\u00e9 opens today');
  const text = 'One sentence here. Another one follows! And a third? Yes. '.repeat(10);
  const parts = passages(text, 60);
  assert.ok(parts.length > 3 && parts.every((p) => /[.!?]$/.test(p) && p.length <= 90));
});

// Issue 12: an object in a text field trained as "[object Object]".
test('a field holding an object or a list is an error with file:line; numbers and booleans read as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peft-ts-data-'));
  const path = join(dir, 'd.jsonl');
  writeFileSync(path, ['{"prompt": "a", "completion": "b"}', '{"prompt": {"text": "a"}, "completion": "b"}', '{"prompt": ["a"], "completion": 3}'].join('\n'));
  const [ok, object, list] = readRecords(path);
  assert.equal(field(ok, 'prompt'), 'a');
  assert.throws(
    () => field(object, 'prompt'),
    (e: unknown) => e instanceof DataError && /d\.jsonl:2: field 'prompt' holds an object, not text/.test((e as Error).message),
  );
  assert.throws(
    () => renderTemplate('Q: {prompt}', list),
    (e: unknown) => e instanceof DataError && /d\.jsonl:3: field 'prompt' holds a list/.test((e as Error).message),
  );
  assert.equal(field(list, 'completion'), '3');
});
