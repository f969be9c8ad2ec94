/**
 * Sessions: a random token given to the client (http-only cookie for the console, or a bearer token
 * for scripts); the database keeps only its SHA-256, so a leaked table cannot be replayed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Prisma, sqlPool } from '../../infra/db/prisma.js';
import type { Actor } from './actor.js';
import { groupsOf } from './groups.js';
import { dummyHash, verifyPassword } from './password.js';
import { AppError } from '../errors.js';

export const SESSION_COOKIE = 'kc_session';
/** A working day; the console signs in again the next morning. */
export const SESSION_TTL_MS = 10 * 60 * 60 * 1000;
/** Consecutive failures before the account locks, and for how long. */
export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;
/** lastSeenAt is refreshed at most this often, so reads do not turn into writes. */
const TOUCH_INTERVAL_MS = 60 * 1000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A fresh session token and the hash the database keeps of it. */
function newToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: hashToken(token) };
}

type UserRow = {
  id: number;
  username: string;
  displayName: string;
  role: Actor['role'];
  regionCode: string;
  schoolId: number | null;
  classId: number | null;
};

/** The actor a user acts as: their role, jurisdiction and candidate groups. */
export function toActor(u: UserRow): Actor {
  return {
    userId: u.id,
    username: u.username,
    displayName: u.displayName,
    role: u.role,
    regionCode: u.regionCode,
    schoolId: u.schoolId,
    classId: u.classId,
    groups: groupsOf(u),
  };
}

export type LoginResult = { ok: true; token: string; actor: Actor; expiresAt: Date } | { ok: false; error: AppError };

/**
 * Checks the password and opens a session. Unknown users cost the same time as known ones; after
 * MAX_FAILED_LOGINS consecutive failures the account is locked for LOCKOUT_MS, even for the right password.
 */
export async function login(
  prisma: Prisma,
  username: string,
  password: string,
  now = new Date(),
): Promise<LoginResult> {
  const user = await prisma.user.findUnique({ where: { username } });
  if (!user || !user.active) {
    await verifyPassword(password, await dummyHash());
    return { ok: false, error: new AppError('LOGIN_FAILED') };
  }
  if (user.lockedUntil && user.lockedUntil > now) return { ok: false, error: new AppError('ACCOUNT_LOCKED') };
  if (!(await verifyPassword(password, user.passwordHash))) {
    // Counted in SQL so that parallel guesses cannot overwrite each other's count.
    const [row] = await prisma.$queryRaw<{ failedLogins: number }[]>`
      UPDATE "User" SET "failedLogins" = "failedLogins" + 1 WHERE id = ${user.id} RETURNING "failedLogins"`;
    if ((row?.failedLogins ?? 0) >= MAX_FAILED_LOGINS) {
      await prisma.user.update({
        where: { id: user.id },
        data: { lockedUntil: new Date(now.getTime() + LOCKOUT_MS), failedLogins: 0 },
      });
      return { ok: false, error: new AppError('ACCOUNT_LOCKED') };
    }
    return { ok: false, error: new AppError('LOGIN_FAILED') };
  }
  const { token, tokenHash } = newToken();
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await prisma.$transaction([
    prisma.user.update({ where: { id: user.id }, data: { failedLogins: 0, lockedUntil: null } }),
    prisma.session.create({ data: { tokenHash, userId: user.id, expiresAt } }),
  ]);
  return { ok: true, token, actor: toActor(user), expiresAt };
}

/**
 * The actor of a live session, or null for an unknown, expired or deactivated one. Exact on every request
 * (no cache): a logout, an expiry or a deactivated user takes effect at the next request. One plain SQL
 * statement on prisma's own pool — the session and its user by the token's hash (primary keys) — because
 * every API request pays for it (issue 17: prisma's query interpretation was a large share of each
 * inbox request's CPU).
 */
export async function resolveSession(prisma: Prisma, token: string, now = new Date()): Promise<Actor | null> {
  const tokenHash = hashToken(token);
  const { rows } = await sqlPool(prisma).query<UserRow & { lastSeenAt: Date }>(
    `SELECT u.id, u.username, u."displayName", u.role::text AS role, u."regionCode", u."schoolId", u."classId",
            s."lastSeenAt"
       FROM "Session" s JOIN "User" u ON u.id = s."userId"
      WHERE s."tokenHash" = $1 AND s."expiresAt" > $2 AND u.active`,
    [tokenHash, now],
  );
  const session = rows[0];
  if (!session) return null;
  if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
    await prisma.session.updateMany({ where: { tokenHash }, data: { lastSeenAt: now } });
  }
  return toActor(session);
}

/**
 * Sessions opened without a password, for tools that act as many users at once (the benchmark's load
 * generator): user id → token. Never reachable from a route.
 */
export async function openSessions(prisma: Prisma, userIds: number[], now = new Date()): Promise<Map<number, string>> {
  const issued = userIds.map((userId) => ({ userId, ...newToken() }));
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await prisma.session.createMany({
    data: issued.map(({ userId, tokenHash }) => ({ userId, tokenHash, expiresAt })),
  });
  return new Map(issued.map(({ userId, token }) => [userId, token]));
}

export async function logout(prisma: Prisma, token: string): Promise<void> {
  await prisma.session.deleteMany({ where: { tokenHash: hashToken(token) } });
}
