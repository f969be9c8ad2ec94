/**
 * Text a caseworker types into a record (names, addresses, notes, filters): it must be something
 * PostgreSQL can store exactly and a list can show without deceiving its reader. Refused:
 * - NUL (PostgreSQL `text` cannot hold it: the insert fails) and the other C0/C1 control characters
 *   (invisible; tab and line breaks only where the field is multi-line);
 * - lone UTF-16 surrogates (not text: the database driver would store U+FFFD instead) and U+FFFD itself,
 *   the mark of bytes that were not UTF-8 (a request or file sent in another encoding);
 * - the bidirectional embedding, override and isolate controls, which make a name display as another
 *   ("Trojan Source"), and the invisible zero-width space, word joiner and BOM, which make two names that
 *   look the same differ. Zero-width (non-)joiners stay: emoji sequences and some scripts need them.
 * Everything else — any script, emoji, combining marks — is stored as sent.
 */
import { z } from 'zod';

// eslint-disable-next-line no-control-regex
const CONTROL_SINGLE_LINE = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_MULTI_LINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
const INVISIBLE = /[\u200b\u2060\ufeff]/;

/** Why `value` cannot be stored as typed, or undefined when it can. */
export function textProblem(value: string, multiline = false): string | undefined {
  if (value.includes('\u0000')) return '含有空字符（NUL），无法保存';
  if ((multiline ? CONTROL_MULTI_LINE : CONTROL_SINGLE_LINE).test(value)) {
    return multiline ? '含有不可见的控制字符，请删除后重试' : '含有换行、制表符或其他控制字符，请删除后重试';
  }
  if (!value.isWellFormed() || value.includes('\ufffd')) {
    return '含有无法识别的字符（可能是编码错误），请以 UTF-8 重新输入';
  }
  if (BIDI_CONTROL.test(value)) return '含有改变文字方向的控制字符，请删除后重试';
  if (INVISIBLE.test(value)) return '含有零宽空格等不可见字符，请删除后重试';
  return undefined;
}

/** A zod check for a string schema: `text().check(storableText())` keeps the schema's type. */
export function storable(multiline = false) {
  return z.superRefine<string>((value, ctx) => {
    const problem = textProblem(value, multiline);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });
}

/** A trimmed single-line text field of at most `max` characters (and at least `min`) that can be stored. */
export function plainText(max: number, min = 0) {
  const base = z.string().trim().max(max);
  return (min > 0 ? base.min(min) : base).check(storable());
}

/** A trimmed multi-line text field (notes, plans) of at most `max` characters that can be stored. */
export function multilineText(max: number) {
  return z.string().trim().max(max).check(storable(true));
}
