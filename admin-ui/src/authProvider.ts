/** Sign-in through the API's own sessions (httpOnly cookie); permissions are the caller's role and jurisdiction. */
import type { AuthProvider } from 'react-admin';
import { apiFetch, ApiError } from './api';

export interface Me {
  userId: number;
  username: string;
  displayName: string;
  role: 'TEACHER' | 'SCHOOL' | 'TOWN' | 'BUREAU' | 'JUSTICE' | 'POLICE' | 'POLICY' | 'SUPERVISOR' | 'ADMIN';
  regionCode: string;
  schoolId: number | null;
  classId: number | null;
  groups: string[];
}

export const ROLE_LABELS: Record<Me['role'], string> = {
  TEACHER: '班主任',
  SCHOOL: '学校',
  TOWN: '镇街',
  BUREAU: '县教育局',
  JUSTICE: '县司法局',
  POLICE: '公安户籍',
  POLICY: '政策管理',
  SUPERVISOR: '督导',
  ADMIN: '系统管理员',
};

let me: Promise<Me> | undefined;

/** The signed-in user (fetched once per sign-in). */
export function currentUser(): Promise<Me> {
  me ??= apiFetch<Me>('/api/auth/me').catch((err) => {
    me = undefined;
    throw err;
  });
  return me;
}

export const authProvider: AuthProvider = {
  async login({ username, password }: { username: string; password: string }) {
    me = undefined;
    try {
      await apiFetch('/api/auth/login', { method: 'POST', json: { username, password } });
    } catch (err) {
      throw new Error(err instanceof ApiError ? err.message : '登录失败', { cause: err });
    }
  },
  async logout() {
    me = undefined;
    await apiFetch('/api/auth/logout', { method: 'POST' }).catch(() => undefined);
  },
  async checkAuth() {
    await currentUser();
  },
  async checkError(error: { status?: number }) {
    if (error?.status === 401) {
      me = undefined;
      throw new Error('登录已失效');
    }
  },
  async getIdentity() {
    const u = await currentUser();
    return { id: u.userId, fullName: u.displayName };
  },
  async getPermissions() {
    return currentUser();
  },
};
