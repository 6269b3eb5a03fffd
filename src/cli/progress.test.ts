import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, ProgressBar } from './progress.js';

test('a progress bar off a terminal prints its first state at once, then every few seconds, and always its last', () => {
  const lines: string[] = [];
  const bar = new ProgressBar('spam base', (t) => lines.push(t));
  bar.update(0, 40, {}, 0);
  bar.update(10, 40, {}, 1);
  bar.update(40, 40, {}, 4);
  assert.equal(lines.length, 2, lines.join(''));
  assert.match(lines[0], /^spam base {2}0\/40 \[ {24}\]/);
  assert.match(lines[1], /^spam base 40\/40 \[={24}\] {3}4s<0s\n$/);
  assert.equal(formatDuration(3725), '1h02m');
});
