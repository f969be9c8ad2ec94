/**
 * Candidate groups of user tasks are jurisdiction-scoped: the diagram assigns a task to
 * `school:<schoolId>`, `town:<townCode>`… (the process variables carry the ids), and a user works on
 * the tasks of the groups their role and jurisdiction give them.
 */
import type { Prisma, Role } from '../../generated/prisma/client.js';

export const group = {
  /** 班主任 of one class */
  class: (classId: number) => `class:${classId}`,
  /** 学校 */
  school: (schoolId: number) => `school:${schoolId}`,
  /** 镇/街道政府及其教育办 */
  town: (townCode: string) => `town:${townCode}`,
  /** 县教育局 */
  bureau: (countyCode: string) => `bureau:${countyCode}`,
  /** 司法局 */
  justice: (countyCode: string) => `justice:${countyCode}`,
  /** 公安 (户籍) */
  police: (countyCode: string) => `police:${countyCode}`,
};

export interface GroupSubject {
  role: Role;
  regionCode: string;
  schoolId: number | null;
  classId: number | null;
}

/** The candidate groups a user belongs to. */
export function groupsOf(u: GroupSubject): string[] {
  switch (u.role) {
    case 'TEACHER':
      return u.classId === null ? [] : [group.class(u.classId)];
    case 'SCHOOL':
      return u.schoolId === null ? [] : [group.school(u.schoolId)];
    case 'TOWN':
      return [group.town(u.regionCode)];
    case 'BUREAU':
      return [group.bureau(u.regionCode)];
    case 'JUSTICE':
      return [group.justice(u.regionCode)];
    case 'POLICE':
      return [group.police(u.regionCode)];
    default:
      return [];
  }
}

/** The users a candidate group stands for (the inverse of groupsOf); an unknown group matches nobody. */
export function usersInGroup(candidateGroup: string): Prisma.UserWhereInput {
  const [kind, id = ''] = candidateGroup.split(':');
  const number = /^\d+$/.test(id) ? Number(id) : -1;
  switch (kind) {
    case 'class':
      return { role: 'TEACHER', classId: number };
    case 'school':
      return { role: 'SCHOOL', schoolId: number };
    case 'town':
      return { role: 'TOWN', regionCode: id };
    case 'bureau':
      return { role: 'BUREAU', regionCode: id };
    case 'justice':
      return { role: 'JUSTICE', regionCode: id };
    case 'police':
      return { role: 'POLICE', regionCode: id };
    default:
      return { id: -1 };
  }
}
