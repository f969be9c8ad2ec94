/**
 * Password hashing with scrypt (memory-hard, in node:crypto), stored self-describing so the cost can
 * be raised later without invalidating existing hashes: scrypt$N$r$p$salt$hash (base64).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );

/** OWASP's minimum for scrypt: N=2^17 is better but costs 128 MiB per login; 2^15 with r=8 is 32 MiB. */
const COST = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Enough for N=2^15, r=8 (128·N·r = 32 MiB) with headroom. */
const MAX_MEMORY = 64 * 1024 * 1024;

export async function hashPassword(plain: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scrypt(plain, salt, KEY_LENGTH, { ...COST, maxmem: MAX_MEMORY });
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(plain: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(plain, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEMORY,
  });
  return timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;

/** A hash of a random secret: checking an unknown user against it costs what a real check costs (no timing oracle). */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  return dummy;
}

/**
 * Password policy: at least 10 characters from at least three of lower case, upper case, digits and
 * symbols. Returns the reason in Chinese, or null when the password is acceptable.
 */
export function passwordProblem(plain: string): string | null {
  if (plain.length < 10) return '密码至少10位';
  if (plain.length > 128) return '密码最多128位';
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(plain)).length;
  if (classes < 3) return '密码须包含大写字母、小写字母、数字、符号中的至少三类';
  return null;
}
