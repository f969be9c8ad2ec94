import { z } from 'zod';

/** The one error shape every route returns. */
export const errorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** RFC 5987 ext-value: percent-encoded UTF-8, including the characters encodeURIComponent leaves alone. */
function rfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Content-Disposition with the Chinese file name (RFC 6266/5987 `filename*`) and an ASCII fallback for
 * clients that only read `filename`: `attachment` (a download) or `inline` (shown in the browser).
 */
export function contentDisposition(
  fileName: string,
  asciiFallback: string,
  type: 'attachment' | 'inline' = 'attachment',
): string {
  return `${type}; filename="${asciiFallback.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${rfc5987(fileName)}`;
}
