/**
 * A small county of its own for a flow test, beside the seeded demo county: one town, a primary
 * school whose grade-6 class has `pupils` children, a middle school, and a user per role. Codes and
 * 身份证号 are unique per fixture (a distinct 6-digit county code), so tests never meet.
 */
import { hashPassword } from '../../api/auth/password.js';
import { idCheckChar } from '../../api/domain/id-number.js';
import type { Prisma } from '../../infra/db/prisma.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';

export interface FixtureCounty {
  county: string;
  town: string;
  primary: { id: number; code: string };
  middle: { id: number; code: string };
  classId: number;
  children: { id: string; name: string; idNumber: string }[];
  users: { bureau: string; town: string; primary: string; middle: string; justice: string; police: string };
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';

/** Builds the county `code` (6 digits, province 37) with one class of `pupils` graduates of `year`. */
export async function fixtureCounty(
  prisma: Prisma,
  code: string,
  year: number,
  pupils: number,
): Promise<FixtureCounty> {
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const city = await prisma.region.findUniqueOrThrow({ where: { code: code.slice(0, 4) === '3704' ? '3704' : '37' } });
  const county = await prisma.region.create({
    data: { code, name: `测试县${code}`, level: 'COUNTY', parentId: city.id },
  });
  const townCode = `${code}001`;
  const town = await prisma.region.create({
    data: { code: townCode, name: `测试镇${code}`, level: 'TOWN', parentId: county.id },
  });
  const school = (kind: 'PRIMARY' | 'MIDDLE', n: string) =>
    prisma.school.create({
      data: {
        code: `9${code}${n}`,
        name: `测试镇${kind === 'PRIMARY' ? '中心小学' : '第一中学'}${code}`,
        kind,
        regionId: town.id,
        regionCode: townCode,
      },
    });
  const primary = await school('PRIMARY', '01');
  const middle = await school('MIDDLE', '02');
  const cls = await prisma.schoolClass.create({
    data: { schoolId: primary.id, schoolYear: year - 1, grade: 6, name: '六年级1班', regionCode: townCode },
  });
  const children: FixtureCounty['children'] = [];
  for (let i = 0; i < pupils; i++) {
    const born = new Date(Date.UTC(year - 12, i % 12, 1 + (i % 27)));
    const first17 = `${code}${born.toISOString().slice(0, 10).replaceAll('-', '')}${String(100 + i).padStart(3, '0')}`;
    const idNumber = first17 + idCheckChar(first17);
    const name = `${SURNAMES[i % SURNAMES.length]}测${i + 1}`;
    const child = await prisma.child.create({
      data: {
        idNumber,
        name,
        gender: Number(first17[16]) % 2 === 1 ? 'MALE' : 'FEMALE',
        birthDate: born,
        regionCode: townCode,
        currentSchoolId: primary.id,
        currentClassId: cls.id,
        guardians: { create: { name: `${SURNAMES[i % SURNAMES.length]}家长${i + 1}`, relation: '父亲' } },
        registry: {
          create: { schoolYear: year - 1, schoolId: primary.id, classId: cls.id, grade: 6, regionCode: townCode },
        },
      },
    });
    children.push({ id: child.id, name, idNumber });
  }
  const user = (username: string, role: 'BUREAU' | 'TOWN' | 'SCHOOL' | 'JUSTICE' | 'POLICE', extra = {}) =>
    prisma.user.create({
      data: {
        username,
        displayName: username,
        passwordHash,
        role,
        regionId: role === 'TOWN' || role === 'SCHOOL' ? town.id : county.id,
        regionCode: role === 'TOWN' || role === 'SCHOOL' ? townCode : code,
        ...extra,
      },
    });
  const users = {
    bureau: `bureau-${code}`,
    justice: `justice-${code}`,
    police: `police-${code}`,
    town: `town-${townCode}`,
    primary: `school-${primary.code}`,
    middle: `school-${middle.code}`,
  };
  await user(users.bureau, 'BUREAU');
  await user(users.justice, 'JUSTICE');
  await user(users.police, 'POLICE');
  await user(users.town, 'TOWN');
  await user(users.primary, 'SCHOOL', { schoolId: primary.id });
  await user(users.middle, 'SCHOOL', { schoolId: middle.id });
  return {
    county: code,
    town: townCode,
    primary: { id: primary.id, code: primary.code },
    middle: { id: middle.id, code: middle.code },
    classId: cls.id,
    children,
    users,
  };
}

/**
 * Puts `n` children of the fixture's town on the year's department lists with no registry record
 * that year — the suspects a comparison will find — plus one list per other department, so the base
 * database is complete. Returns the listed children's ids.
 */
export async function listedChildren(
  prisma: Prisma,
  fx: FixtureCounty,
  year: number,
  n: number,
  otherLists: ('POVERTY' | 'DISABILITY' | 'WELFARE')[] = ['POVERTY', 'DISABILITY', 'WELFARE'],
): Promise<string[]> {
  const batch = (kind: 'HOUSEHOLD' | 'POVERTY' | 'DISABILITY' | 'WELFARE', rowCount: number) =>
    prisma.importBatch.create({
      data: {
        kind,
        regionCode: fx.county,
        year,
        fileName: `${kind}.csv`,
        sha256: `${fx.county}-${kind}-${year}`,
        rowCount,
      },
    });
  const household = await batch('HOUSEHOLD', n);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const born = new Date(Date.UTC(year - 10, 0, 1 + i));
    const first17 = `${fx.county}${born.toISOString().slice(0, 10).replaceAll('-', '')}${String(500 + (i % 400)).padStart(3, '0')}`;
    const child = await prisma.child.create({
      data: {
        idNumber: first17 + idCheckChar(first17),
        name: `${SURNAMES[i % SURNAMES.length]}查${i + 1}`,
        gender: Number(first17[16]) % 2 === 1 ? 'MALE' : 'FEMALE',
        birthDate: born,
        regionCode: fx.town,
      },
    });
    await prisma.departmentListEntry.create({
      data: {
        batchId: household.id,
        lineNumber: i + 2,
        kind: 'HOUSEHOLD',
        year,
        childId: child.id,
        regionCode: fx.town,
      },
    });
    ids.push(child.id);
  }
  // The other three departments listed a child who is also on the household list.
  for (const kind of otherLists) {
    const b = await batch(kind, 1);
    await prisma.departmentListEntry.create({
      data: { batchId: b.id, lineNumber: 2, kind, year, childId: ids[0]!, regionCode: fx.town },
    });
  }
  return ids;
}
