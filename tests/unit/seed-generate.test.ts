import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ageOn, checkIdNumber } from '../../api/domain/id-number.js';
import {
  addToSummary,
  type CountyPlan,
  demoUsers,
  generatePupils,
  IdNumbers,
  type PupilGroup,
  planCounty,
  startSummary,
} from '../../infra/seed/generate.js';
import { apportion, Random } from '../../infra/seed/random.js';

const TOWNS = ['荆河街道', '龙泉街道', '北辛街道', '善南街道', '东沙河街道', '洪绪镇', '南沙河镇', '大坞镇', '滨湖镇'];

function everything(plan: CountyPlan) {
  const all: Omit<PupilGroup, 'school'> = { children: [], guardians: [], registry: [], changes: [], entries: [] };
  const summary = startSummary(plan, demoUsers(plan));
  for (const group of generatePupils(plan)) {
    addToSummary(summary, group);
    for (const key of Object.keys(all) as (keyof typeof all)[]) {
      for (const row of group[key]) (all[key] as unknown[]).push(row);
    }
  }
  return { ...all, summary };
}

/** A fingerprint of every row the generator produces. */
function fingerprint(plan: CountyPlan): string {
  const hash = createHash('sha256').update(JSON.stringify(plan));
  for (const group of generatePupils(plan)) hash.update(JSON.stringify({ ...group, school: group.school?.id }));
  return hash.digest('hex');
}

const share = (n: number, of: number) => n / of;

describe('the demo county (70,000 pupils, the default)', () => {
  const plan = planCounty();
  let data: ReturnType<typeof everything>;
  beforeAll(() => {
    data = everything(plan);
  });

  it('has the real region tree, prefix-hierarchical', () => {
    const byId = new Map(plan.regions.map((r) => [r.id, r]));
    expect(plan.regions.slice(0, 3).map((r) => [r.code, r.name, r.level])).toEqual([
      ['37', '山东省', 'PROVINCE'],
      ['3704', '枣庄市', 'CITY'],
      ['370481', '滕州市', 'COUNTY'],
    ]);
    expect(plan.towns).toHaveLength(21);
    expect(plan.towns.map((t) => t.code)).toEqual(
      Array.from({ length: 21 }, (_, i) => `370481${String(i + 1).padStart(3, '0')}`),
    );
    expect(plan.towns.slice(0, TOWNS.length).map((t) => t.name)).toEqual(TOWNS);
    expect(plan.towns.at(-1)!.name).toBe('东郭镇');
    expect(plan.regions.find((r) => r.code === '370481001')!.educationOffice).toBe('荆河街道教育办');
    for (const t of plan.towns) {
      expect(t.villages.length).toBeGreaterThanOrEqual(3);
      expect(t.villages.length).toBeLessThanOrEqual(6);
      expect(new Set(t.villages.map((v) => v.name)).size).toBe(t.villages.length);
    }
    for (const r of plan.regions.slice(1)) {
      const parent = byId.get(r.parentId!)!;
      expect(r.code.startsWith(parent.code)).toBe(true);
      expect(r.code.length).toBe({ CITY: 4, COUNTY: 6, TOWN: 9, VILLAGE: 12, PROVINCE: 2 }[r.level]);
    }
    expect(new Set(plan.regions.map((r) => r.code)).size).toBe(plan.regions.length);
  });

  it('scales schools with pupils: ~700 per primary, ~1,200 per middle, a few nine-year, one special, two private', () => {
    const kinds = data.summary.schoolsByKind;
    expect(kinds.PRIMARY).toBeGreaterThanOrEqual(55);
    expect(kinds.PRIMARY).toBeLessThanOrEqual(70);
    expect(kinds.MIDDLE).toBeGreaterThanOrEqual(15);
    expect(kinds.MIDDLE).toBeLessThanOrEqual(22);
    expect(kinds.NINE_YEAR).toBeGreaterThanOrEqual(3);
    expect(kinds.NINE_YEAR).toBeLessThanOrEqual(8);
    expect(kinds.SPECIAL).toBe(1);
    expect(data.summary.privateSchools).toBe(2);
    const codes = plan.schools.map((s) => s.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const s of plan.schools) {
      expect(s.code).toMatch(/^31370481\d{2}$/);
      const town = plan.towns.find((t) => t.code === s.regionCode)!;
      expect(s.regionId).toBe(town.id);
    }
  });

  it('gives each school the grades of its kind, in classes of about 45', () => {
    for (const s of plan.schools) {
      const grades = new Set(s.classes.map((c) => c.grade));
      if (s.kind === 'PRIMARY') expect([...grades].every((g) => g <= 6)).toBe(true);
      if (s.kind === 'MIDDLE') expect([...grades].every((g) => g >= 7)).toBe(true);
      if (s.kind === 'NINE_YEAR') expect(grades.size).toBe(9);
      expect(new Set(s.classes.map((c) => c.name)).size).toBe(s.classes.length);
      for (const c of s.classes) {
        expect(c.regionCode).toBe(s.regionCode);
        expect(c.name).toMatch(/^[一二三四五六七八九]年级\(\d+\)班$/);
        if (s.kind !== 'SPECIAL') {
          expect(c.pupils).toBeGreaterThanOrEqual(30);
          expect(c.pupils).toBeLessThanOrEqual(68);
        }
      }
    }
    const pupils = plan.schools.flatMap((s) => s.classes).reduce((n, c) => n + c.pupils, 0);
    expect(pupils).toBe(70_000);
    const regular = plan.schools.filter((s) => s.kind !== 'SPECIAL').flatMap((s) => s.classes);
    expect(70_000 / regular.length).toBeGreaterThan(40);
    expect(70_000 / regular.length).toBeLessThan(50);
    expect(plan.schools.find((s) => s.kind === 'SPECIAL')!.name).toBe('滕州市特殊教育学校');
  });

  it('issues valid, unique 身份证号 of 滕州市 whose birth date fits the grade and whose sequence fits the gender', () => {
    const today = new Date(Date.UTC(plan.year, 8, 1));
    const ids = new IdNumbers(plan.year);
    const gradeOf = new Map(data.registry.map((r) => [r.childId, r.grade]));
    const bad: string[] = [];
    for (const c of data.children) {
      const check = checkIdNumber(c.idNumber, today);
      const birth = c.birthDate as Date;
      const age = ageOn(birth, new Date(Date.UTC(plan.year, 7, 31)));
      const grade = gradeOf.get(c.id!);
      const window = grade === undefined ? undefined : ids.window(grade);
      const fits =
        check.ok &&
        check.facts.regionCode === '370481' &&
        check.facts.gender === c.gender &&
        check.facts.birthDate.getTime() === birth.getTime() &&
        age >= 6 &&
        age <= 14 &&
        (!window || (birth >= window.from && birth <= window.to && age === grade! + 5));
      if (!fits) bad.push(`${c.idNumber} ${c.gender} grade ${grade}`);
    }
    expect(bad).toEqual([]);
    expect(new Set(data.children.map((c) => c.idNumber)).size).toBe(data.children.length);
    const uuids = data.children.map((c) => c.id!);
    expect(new Set(uuids).size).toBe(uuids.length);
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(uuids.filter((id) => !v4.test(id))).toEqual([]);
  });

  it('places every pupil in a class with one registry record, 学籍号 G + 身份证号', () => {
    const classes = new Map(plan.schools.flatMap((s) => s.classes.map((c) => [c.id, { c, s }] as const)));
    const byChild = new Map(data.children.map((c) => [c.id!, c]));
    expect(data.registry).toHaveLength(70_000);
    expect(new Set(data.registry.map((r) => r.childId)).size).toBe(70_000);
    const bad = data.registry.filter((r) => {
      const { c, s } = classes.get(r.classId!)!;
      const child = byChild.get(r.childId)!;
      return (
        r.grade !== c.grade ||
        r.schoolId !== s.id ||
        r.regionCode !== s.regionCode ||
        r.schoolYear !== plan.year ||
        child.currentSchoolId !== s.id ||
        child.currentClassId !== c.id ||
        child.studentNumber !== `G${child.idNumber}`
      );
    });
    expect(bad).toEqual([]);
    const left = data.registry.filter((r) => r.status !== 'ENROLLED');
    expect(share(left.length, 70_000)).toBeGreaterThan(0.001);
    expect(share(left.length, 70_000)).toBeLessThan(0.0035);
    expect(data.changes.map((c) => c.recordId).sort()).toEqual(left.map((r) => r.id).sort());
  });

  it('registers most pupils in their school’s town, ~10 % elsewhere, in a village of that town', () => {
    const schoolTown = new Map(plan.schools.map((s) => [s.id, s.regionCode]));
    const villageTown = new Map(plan.towns.flatMap((t) => t.villages.map((v) => [v.id, t.code] as const)));
    const pupils = data.children.filter((c) => c.currentSchoolId);
    const elsewhere = pupils.filter((c) => c.regionCode !== schoolTown.get(c.currentSchoolId!)).length;
    expect(share(elsewhere, pupils.length)).toBeGreaterThan(0.07);
    expect(share(elsewhere, pupils.length)).toBeLessThan(0.13);
    const bad = data.children.filter(
      (c) => villageTown.get(c.householdRegionId!) !== c.regionCode || !c.householdAddress?.startsWith('山东省滕州市'),
    );
    expect(bad).toEqual([]);
  });

  it('flags vulnerable children in realistic shares', () => {
    const n = data.children.length;
    const count = (flag: string) => data.children.filter((c) => (c.flags as string[]).includes(flag)).length;
    const expected: [string, number, number][] = [
      ['REGISTERED_POOR', 0.035, 0.046],
      ['DISABLED', 0.006, 0.01],
      ['LEFT_BEHIND', 0.07, 0.09],
      ['SINGLE_PARENT', 0.044, 0.056],
      ['MIGRANT', 0.053, 0.067],
      ['LEARNING_DIFFICULTY', 0.026, 0.034],
      ['IN_DIFFICULTY', 0.0035, 0.0065],
      ['ORPHAN', 0.0004, 0.0018],
      ['NO_CAREGIVER', 0.0004, 0.0018],
      ['PRISONER_CHILD', 0.0001, 0.0012],
    ];
    for (const [flag, lo, hi] of expected) {
      expect(share(count(flag), n), flag).toBeGreaterThan(lo);
      expect(share(count(flag), n), flag).toBeLessThan(hi);
    }
    const special = plan.schools.find((s) => s.kind === 'SPECIAL')!;
    const atSpecial = data.children.filter((c) => c.currentSchoolId === special.id);
    expect(atSpecial.length).toBeGreaterThan(0);
    expect(atSpecial.every((c) => (c.flags as string[]).includes('DISABLED'))).toBe(true);
  });

  it('gives every child one or two guardians with a mobile number', () => {
    const perChild = new Map<string, number>();
    for (const g of data.guardians) perChild.set(g.childId, (perChild.get(g.childId) ?? 0) + 1);
    expect(perChild.size).toBe(data.children.length);
    expect([...perChild.values()].filter((k) => k !== 1 && k !== 2)).toEqual([]);
    const bad = data.guardians.filter((g) => !/^1[3-9]\d{9}$/.test(g.phone!) || !/^\p{Script=Han}{2,3}$/u.test(g.name));
    expect(bad).toEqual([]);
  });

  it('lists every child with the police, and the poor, disabled and welfare children with their departments', () => {
    const byKind = (kind: string) => data.entries.filter((e) => e.kind === kind);
    const withFlag = (...flags: string[]) =>
      new Set(data.children.filter((c) => (c.flags as string[]).some((f) => flags.includes(f))).map((c) => c.id!));
    expect(new Set(byKind('HOUSEHOLD').map((e) => e.childId))).toEqual(new Set(data.children.map((c) => c.id!)));
    expect(new Set(byKind('POVERTY').map((e) => e.childId))).toEqual(withFlag('REGISTERED_POOR'));
    expect(new Set(byKind('DISABILITY').map((e) => e.childId))).toEqual(withFlag('DISABLED'));
    expect(new Set(byKind('WELFARE').map((e) => e.childId))).toEqual(
      withFlag('ORPHAN', 'NO_CAREGIVER', 'IN_DIFFICULTY'),
    );
    for (const kind of ['HOUSEHOLD', 'POVERTY', 'DISABILITY', 'WELFARE']) {
      const lines = byKind(kind).map((e) => e.lineNumber);
      expect(lines).toEqual(lines.map((_, i) => i + 2));
      expect(data.summary.departmentEntries[kind as 'HOUSEHOLD']).toBe(lines.length);
    }
    const region = new Map(data.children.map((c) => [c.id!, c.regionCode]));
    expect(data.entries.every((e) => e.regionCode === region.get(e.childId) && e.year === plan.year)).toBe(true);
    expect(byKind('DISABILITY').every((e) => /残疾[一二三四]级$/.test(e.category!))).toBe(true);
  });

  it('adds ~0.4 % children in no register — the suspects — across the towns', () => {
    const { suspects } = data.summary;
    expect(suspects.total).toBe(280);
    expect(suspects.childIds).toHaveLength(280);
    const registered = new Set(data.registry.map((r) => r.childId));
    const byId = new Map(data.children.map((c) => [c.id!, c]));
    for (const id of suspects.childIds) {
      expect(registered.has(id)).toBe(false);
      expect(byId.get(id)!.currentSchoolId).toBeNull();
    }
    expect(data.children.length - registered.size).toBe(280);
    expect(Object.keys(suspects.byTown).length).toBeGreaterThanOrEqual(15);
    expect(Object.values(suspects.byTown).reduce((a, b) => a + b, 0)).toBe(280);
    const disabled = suspects.childIds.filter((id) => (byId.get(id)!.flags as string[]).includes('DISABLED'));
    expect(disabled.length).toBeGreaterThan(10);
  });

  it('makes one user per county role, town, school and class', () => {
    const users = demoUsers(plan);
    const classes = plan.schools.flatMap((s) => s.classes);
    expect(users).toHaveLength(6 + 21 + plan.schools.length + classes.length);
    expect(new Set(users.map((u) => u.username)).size).toBe(users.length);
    const admin = users.find((u) => u.username === 'admin')!;
    expect([admin.role, admin.regionCode, admin.regionId]).toEqual(['ADMIN', '37', 1]);
    for (const name of ['bureau', 'justice', 'police', 'policy', 'supervisor']) {
      const u = users.find((x) => x.username === name)!;
      expect([u.role, u.regionCode, u.regionId]).toEqual([name.toUpperCase(), '370481', 3]);
    }
    const town = users.find((u) => u.username === 'town-370481005')!;
    expect([town.role, town.regionCode, town.displayName]).toEqual(['TOWN', '370481005', '东沙河街道教育办']);
    const school = plan.schools[3]!;
    const schoolUser = users.find((u) => u.username === `school-${school.code}`)!;
    expect([schoolUser.role, schoolUser.schoolId, schoolUser.regionCode]).toEqual([
      'SCHOOL',
      school.id,
      school.regionCode,
    ]);
    const cls = school.classes[0]!;
    const teacher = users.find((u) => u.username === `teacher-${cls.id}`)!;
    expect([teacher.role, teacher.classId, teacher.schoolId, teacher.regionCode]).toEqual([
      'TEACHER',
      cls.id,
      school.id,
      school.regionCode,
    ]);
    expect(users.every((u) => /\p{Script=Han}/u.test(u.displayName))).toBe(true);
  });
});

describe('determinism and scale', () => {
  it('gives the same rows for the same seed and different rows for another', () => {
    const a = fingerprint(planCounty({ pupils: 3000, seed: 42 }));
    expect(fingerprint(planCounty({ pupils: 3000, seed: 42 }))).toBe(a);
    expect(fingerprint(planCounty({ pupils: 3000, seed: 43 }))).not.toBe(a);
  });

  it('builds a small county for tests: a few schools, every pupil placed', () => {
    const plan = planCounty({ pupils: 2000, seed: 7 });
    const { summary } = everything(plan);
    expect(summary.schools).toBeGreaterThanOrEqual(3);
    expect(summary.schools).toBeLessThanOrEqual(6);
    expect(summary.registryRecords).toBe(2000);
    expect(summary.suspects.total).toBe(8);
    expect(summary.children).toBe(2008);
    expect(summary.usersByRole.TOWN).toBe(21);
  });

  it('keeps school codes within 31370481xx when the county outgrows them', () => {
    const plan = planCounty({ pupils: 400_000 });
    expect(plan.schools.length).toBeLessThanOrEqual(99);
    expect(new Set(plan.schools.map((s) => s.code)).size).toBe(plan.schools.length);
    expect(plan.schools.flatMap((s) => s.classes).reduce((n, c) => n + c.pupils, 0)).toBe(400_000);
  });

  it('refuses impossible options', () => {
    expect(() => planCounty({ pupils: 0 })).toThrow();
    expect(() => planCounty({ pupils: 1.5 })).toThrow();
    expect(() => planCounty({ year: 1990 })).toThrow();
  });
});

describe('building blocks', () => {
  it('apportions a total exactly, by weight', () => {
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(7, [0, 2, 5])).toEqual([0, 2, 5]);
    expect(apportion(100, [0.9, 1.07, 1.2]).reduce((a, b) => a + b)).toBe(100);
  });

  it('draws the same sequence for a seed and stream, another for another', () => {
    const draw = (seed: number, stream: number) => {
      const r = new Random(seed, stream);
      return Array.from({ length: 5 }, () => r.uint32());
    };
    expect(draw(1, 0)).toEqual(draw(1, 0));
    expect(draw(1, 0)).not.toEqual(draw(1, 1));
    expect(draw(1, 0)).not.toEqual(draw(2, 0));
    const r = new Random(9);
    const xs = Array.from({ length: 10_000 }, () => r.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((a, b) => a + b) / xs.length).toBeCloseTo(0.5, 1);
  });

  it('never repeats a 身份证号, even when one birth date runs out of sequence numbers', () => {
    // A generator stuck on the first day of the window: 500 boys' numbers fit, then the next day is used.
    class Stuck extends Random {
      override int(min: number): number {
        return min;
      }
    }
    const ids = new IdNumbers(2026);
    const rng = new Stuck(3);
    const issued = Array.from({ length: 1200 }, () => ids.allocate(rng, 1, 'MALE'));
    expect(new Set(issued.map((i) => i.idNumber)).size).toBe(1200);
    const days = issued.map((i) => i.birthDate.toISOString().slice(0, 10));
    expect(days.slice(0, 500).every((d) => d === '2019-09-01')).toBe(true);
    expect(days[500]).toBe('2019-09-02');
    expect(days[1000]).toBe('2019-09-03');
    expect(issued.every((i) => Number(i.idNumber[16]) % 2 === 1 && checkIdNumber(i.idNumber).ok)).toBe(true);
  });
});
