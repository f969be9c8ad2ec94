import { describe, expect, it } from 'vitest';
import { arrayLiteral } from '../../infra/seed/bulk.js';

describe('arrayLiteral (one column of a bulk insert)', () => {
  it('quotes every element and escapes quotes and backslashes', () => {
    expect(arrayLiteral(['a"b', 'c\\d', '逗号,和 空格', '{x}', 'NULL', ''], 'text')).toBe(
      '{"a\\"b","c\\\\d","逗号,和 空格","{x}","NULL",""}',
    );
  });

  it('sends null and undefined as NULL', () => {
    expect(arrayLiteral([null, undefined, 1], 'int')).toBe('{NULL,NULL,"1"}');
  });

  it('writes dates as days for date columns and as instants otherwise', () => {
    const d = new Date(Date.UTC(2020, 1, 29));
    expect(arrayLiteral([d], 'date')).toBe('{"2020-02-29"}');
    expect(arrayLiteral([d], 'timestamptz')).toBe('{"2020-02-29T00:00:00.000Z"}');
  });

  it('nests an enum array as one element, cast on the server', () => {
    expect(arrayLiteral([['REGISTERED_POOR', 'DISABLED'], []], '"VulnerabilityFlag"[]')).toBe(
      '{"{REGISTERED_POOR,DISABLED}","{}"}',
    );
  });
});
