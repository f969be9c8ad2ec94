/** The console speaks only Chinese: every react-admin message has a Chinese text. */
import english from 'ra-language-english';
import { describe, expect, it } from 'vitest';
import { chineseMessages } from '../../admin-ui/src/i18n.js';

type Messages = { [key: string]: string | Messages };

function flatten(m: Messages, prefix = ''): [string, string][] {
  return Object.entries(m).flatMap(([k, v]) =>
    typeof v === 'string' ? [[`${prefix}${k}`, v] as [string, string]] : flatten(v, `${prefix}${k}.`),
  );
}

describe('console messages', () => {
  const zh = new Map(flatten(chineseMessages));

  it('translate every key react-admin 5 has', () => {
    const missing = flatten(english as unknown as Messages)
      .map(([k]) => k)
      .filter((k) => !zh.has(k));
    expect(missing).toEqual([]);
  });

  it('are Chinese, not English left over', () => {
    const english = [...zh].filter(([, v]) => v.trim() && !/[\u4e00-\u9fff]/.test(v));
    // A few messages are symbols only (boolean null is a blank, "%{name} #%{id}").
    expect(english.filter(([, v]) => /[A-Za-z]{3,}/.test(v.replace(/%\{\w+\}/g, '')))).toEqual([]);
  });
});
