import type { Readable } from 'node:stream';
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

/**
 * An uploaded file part's bytes, refused with `tooLarge()` the moment it passes the plugin's `fileSize`
 * limit (busboy's 'limit' event ends the stream with that error) — not after the rest of the upload has
 * been read and thrown away. The part's own toBuffer() is not enough: it checks `truncated` only when a
 * chunk arrives, and when the limit falls on a chunk boundary busboy marks the stream truncated without
 * another chunk, so the cut-off file would be returned as if it were whole (seen in CI as a 10 MB + 1 KB
 * attachment stored at exactly 10 MB).
 */
export async function readFilePart(stream: Readable & { truncated?: boolean }, tooLarge: () => Error): Promise<Buffer> {
  stream.once('limit', () => stream.destroy(tooLarge()));
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  if (stream.truncated) throw tooLarge();
  return Buffer.concat(chunks);
}
