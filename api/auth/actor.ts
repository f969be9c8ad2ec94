/**
 * Who is calling: the signed-in user with the jurisdiction they act for. Resolved once per request
 * by the auth plugin (api/auth/plugin.ts) from the session cookie or bearer token.
 */
import type { FastifyRequest } from 'fastify';
import type { Role } from '../../generated/prisma/client.js';
import { AppError } from '../errors.js';

export interface Actor {
  userId: number;
  username: string;
  displayName: string;
  role: Role;
  /** Significant digits of the region the user acts for (county for county roles, town for TOWN…). */
  regionCode: string;
  schoolId: number | null;
  classId: number | null;
  /** Candidate groups of the engine's user tasks this user may work on (api/auth/groups.ts). */
  groups: string[];
  /**
   * JUSTICE only: the process instances of the dropout cases the justice bureau holds right now, read from
   * the engine per request (api/auth/scope.ts `casesHeldByJustice`); its whole view of cases and children.
   */
  heldCaseInstances?: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in (login, health, metrics, docs). */
    public?: boolean;
    /** Only these roles may call the route (others get 403). */
    roles?: Role[];
  }
}

/** The signed-in caller; routes behind the auth hook always have one. */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw new AppError('UNAUTHENTICATED');
  return req.actor;
}

/** County-level and above: roles whose jurisdiction is a whole county (or more). */
export const COUNTY_ROLES: Role[] = ['BUREAU', 'JUSTICE', 'POLICE', 'POLICY', 'SUPERVISOR', 'ADMIN'];
