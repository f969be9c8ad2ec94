/**
 * The engine's transactions inline deferred statements' values as SQL literals (engine/src/db/tx.ts):
 * they must be exactly what pg's own escapeLiteral makes of the text pg would have bound, and `$n`
 * must be replaced by the right value (never `$1` inside `$10`).
 */
import pgUtils from 'pg/lib/utils.js';
import { describe, expect, it } from 'vitest';
import { inline, literal } from '../../../engine/src/db/tx.js';

const pgLiteral = (v: unknown) => {
  const prepared = pgUtils.prepareValue(v);
  return prepared === null ? 'NULL' : pgUtils.escapeLiteral(String(prepared));
};

describe('inlined literals', () => {
  it('equal pg escapeLiteral for quotes, backslashes, unicode and JSON', () => {
    const samples = [
      '',
      'plain',
      "O'Brien",
      "''",
      'back\\slash',
      "both ' and \\ and \\'",
      '王小明 身份证 370481201501011234',
      '{"a":"it\'s","b":"c:\\\\d","e":[1,2,"\\"q\\""]}',
      'line\nbreak\ttab',
    ];
    for (let i = 0; i < 200; i++) {
      samples.push(Array.from({ length: 1 + (i % 17) }, (_, j) => 'a\'\\"{},\n 中'[(i * 7 + j * 3) % 11]).join(''));
    }
    for (const s of samples) expect(literal(s)).toBe(pgLiteral(s));
  });

  it('equal pg for numbers, bigint keys, arrays of keys and of JSON, dates, null', () => {
    const values: unknown[] = [
      0,
      42,
      -1.5,
      true,
      null,
      undefined,
      '2251799813685349',
      ['2251799813685349', '2251799813685351'],
      [JSON.stringify({ a: "x'y" }), JSON.stringify({ b: 'c\\d' }), null],
      new Date(Date.UTC(2026, 11, 2, 6, 0, 0, 123)),
      { phase: 'ACTIVATING', joins: { f1: 2 } },
    ];
    for (const v of values) expect(literal(v)).toBe(pgLiteral(v));
  });

  it('replaces $n by its own value, $10 not as $1 followed by 0', () => {
    const values = Array.from({ length: 11 }, (_, i) => `v${i + 1}`);
    expect(inline('SELECT $1, $10, $11, $2', values)).toBe("SELECT 'v1', 'v10', 'v11', 'v2'");
    expect(() => inline('SELECT $3', ['a', 'b'])).toThrow(/\$3/);
    expect(inline('SELECT 1')).toBe('SELECT 1');
  });
});
