/**
 * The LIKE escaping every text search goes through (api/auth/scope.ts): the user's text matched literally,
 * its `%`, `_` and `\` no wildcards or escapes. The database side (prisma's `contains` and the case list's
 * statement on a real PostgreSQL) is tests/integration/search-literal.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { escapeLike, likeContains, likePrefix, likeText } from '../../api/auth/scope.js';

/**
 * PostgreSQL's LIKE with its default escape `\` (a pattern ending in a lone `\` is an error there), as a
 * regular expression: what a pattern matches.
 */
function like(value: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[++i];
      if (next === undefined) throw new Error(`LIKE pattern must not end with the escape character: ${pattern}`);
      re += next.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u').test(value);
}

const TEXTS = ['_', '%', '\\', '50%', 'a_b', '\\%', '%_\\', '张三', '王_%五', ''];
const VALUES = ['张三', '王_%五', 'axb', 'a_b', '50', '50%', '打折50%起', 'C:\\dir', '\\%', '', 'plain', '__'];

describe('escapeLike', () => {
  it('puts a backslash before each %, _ and \\ and leaves everything else as it is', () => {
    expect(escapeLike('_')).toBe('\\_');
    expect(escapeLike('%')).toBe('\\%');
    expect(escapeLike('\\')).toBe('\\\\');
    expect(escapeLike('50%_off\\x')).toBe('50\\%\\_off\\\\x');
    expect(escapeLike('张三 O’Brien *?[]')).toBe('张三 O’Brien *?[]');
    expect(escapeLike('')).toBe('');
  });
});

describe('likeContains and likePrefix', () => {
  it('match exactly the values that contain (start with) the text, literally', () => {
    for (const text of TEXTS) {
      for (const value of VALUES) {
        expect(like(value, likeContains(text)), `${JSON.stringify(value)} contains ${JSON.stringify(text)}`).toBe(
          value.includes(text),
        );
        expect(like(value, likePrefix(text)), `${JSON.stringify(value)} starts with ${JSON.stringify(text)}`).toBe(
          value.startsWith(text),
        );
      }
    }
  });

  it('would not without the escaping: "_" and "%" match every value, "a_b" matches "axb"', () => {
    expect(VALUES.filter((v) => like(v, '%_%'))).toEqual(VALUES.filter((v) => v.length > 0));
    expect(VALUES.every((v) => like(v, '%%%'))).toBe(true);
    expect(like('axb', '%a_b%')).toBe(true);
    expect(like('axb', likeContains('a_b'))).toBe(false);
  });
});

describe('likeText (the prisma filters)', () => {
  it('hand prisma the escaped text, which prisma wraps in % (contains) or ends with % (startsWith)', () => {
    expect(likeText.contains('王_%五')).toEqual({ contains: '王\\_\\%五' });
    expect(likeText.startsWith('37_')).toEqual({ startsWith: '37\\_' });
    // The same pattern as the case list's own statement.
    expect(`%${likeText.contains('a_b\\').contains}%`).toBe(likeContains('a_b\\'));
    expect(`${likeText.startsWith('%1').startsWith}%`).toBe(likePrefix('%1'));
  });
});
