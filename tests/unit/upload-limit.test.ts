/**
 * The upload size limit, at the byte where it falls. busboy may cut a file exactly on a chunk boundary;
 * then no chunk follows the cut and a reader that only checks `truncated` per chunk returns the cut-off
 * file as whole. These tests drive @fastify/multipart with the body split exactly there.
 */
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFilePart } from '../../api/routes/shared.js';

const LIMIT = 64 * 1024;
const BOUNDARY = 'kc-boundary';
const head = Buffer.from(
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n`,
);
const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

class TooLarge extends Error {}

const app = Fastify();
beforeAll(async () => {
  await app.register(multipart, { limits: { fileSize: LIMIT, files: 1 } });
  app.post('/upload', async (req, reply) => {
    const file = await req.file();
    if (!file) return reply.code(400).send();
    try {
      const bytes = await readFilePart(file.file, () => new TooLarge());
      return { size: bytes.length };
    } catch (err) {
      if (err instanceof TooLarge) return reply.code(413).send({ refused: true });
      throw err;
    }
  });
  await app.ready();
});
afterAll(() => app.close());

/** The multipart body of a file of `size` bytes, sent in chunks cut at the given offsets of the file data. */
function body(size: number, cutsInFile: number[]): Readable {
  const data = Buffer.alloc(size, 0x61);
  const whole = Buffer.concat([head, data, tail]);
  const cuts = [0, ...cutsInFile.map((c) => head.length + c), whole.length];
  const chunks = cuts.slice(1).map((end, i) => whole.subarray(cuts[i], end));
  return Readable.from(chunks, { objectMode: false });
}

async function send(size: number, cuts: number[]) {
  const res = await app.inject({
    method: 'POST',
    url: '/upload',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    payload: body(size, cuts),
  });
  return { status: res.statusCode, body: res.json<{ size?: number }>() };
}

describe('readFilePart and the file size limit', () => {
  it('refuses a file whose first chunk ends exactly at the limit (the cut falls on a chunk boundary)', async () => {
    expect(await send(LIMIT + 1024, [LIMIT])).toMatchObject({ status: 413 });
  });

  it('refuses a file that passes the limit in the middle of a chunk', async () => {
    expect(await send(LIMIT + 1024, [LIMIT - 10])).toMatchObject({ status: 413 });
    expect(await send(LIMIT + 1, [])).toMatchObject({ status: 413 });
  });

  it('accepts a file of exactly the limit, however it is cut', async () => {
    expect(await send(LIMIT, [LIMIT])).toEqual({ status: 200, body: { size: LIMIT } });
    expect(await send(LIMIT, [1000, LIMIT - 1])).toEqual({ status: 200, body: { size: LIMIT } });
  });
});
