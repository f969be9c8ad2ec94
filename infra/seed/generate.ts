/**
 * The synthetic county, as pure data: the plan (regions, schools, classes, users) is small and built
 * at once; the children are generated one school at a time so that a million pupils fit in memory.
 * Everything comes from one seed: the same seed gives the same rows.
 */
import { z } from 'zod';
import type {
  Gender,
  ImportKind,
  Prisma,
  RegionLevel,
  RegistryStatus,
  Role,
  SchoolKind,
  SchoolOwnership,
  VulnerabilityFlag,
} from '../../generated/prisma/client.js';
import { idCheckChar } from '../../api/domain/id-number.js';
import {
  adultName,
  AWAY_CITIES,
  childName,
  CITY,
  COUNTY,
  DIFFICULTY_CATEGORIES,
  DISABILITIES,
  DISABILITY_GRADES,
  DROPOUT_NOTES,
  GRADE_NAMES,
  mobile,
  POVERTY_CATEGORIES,
  PRIVATE_NAMES,
  PROVINCE,
  ROADS,
  type Sex,
  surname,
  SUSPEND_NOTES,
  TOWN_NAMES,
  villageName,
} from './names.js';
import { apportion, Random, Weighted } from './random.js';

export const demoOptionsSchema = z.object({
  /** Enrolled pupils; every other count scales with it. */
  pupils: z.number().int().min(1).max(2_500_000).default(70_000),
  seed: z.number().int().default(1),
  /** School year by its starting calendar year (2026 = 2026–2027 学年). */
  year: z.number().int().min(2000).max(2100).default(2026),
});
export type DemoOptions = z.input<typeof demoOptionsSchema>;

/** Department lists the verification compares with the registers. */
export type ListKind = Extract<ImportKind, 'HOUSEHOLD' | 'POVERTY' | 'DISABILITY' | 'WELFARE'>;
export const LIST_KINDS: readonly ListKind[] = ['HOUSEHOLD', 'POVERTY', 'DISABILITY', 'WELFARE'];

/** Scale: pupils per school and class, shares of the county's pupils (statutes doc [R] is the check). */
const PRIMARY_PUPILS_PER_SCHOOL = 700;
const MIDDLE_PUPILS_PER_SCHOOL = 1200;
const NINE_YEAR_PUPILS_PER_SCHOOL = 900;
const NINE_YEAR_SHARE = 0.08;
const SPECIAL_SHARE = 0.0015;
const CLASS_SIZE = 45;
const SPECIAL_CLASS_SIZE = 12;
/** Children in the household list without a registry record this year (282 of 70,885 in [R]). */
const SUSPECT_SHARE = 0.004;
/** 学校标识码 31370481xx: 99 codes, so past ~75,000 pupils the schools grow instead of multiplying. */
const SCHOOL_CODE_PREFIX = '31370481';
const MAX_SCHOOLS = 99;
/** Births fell after 2017: younger grades are smaller. */
const COHORT_WEIGHTS = [0.9, 0.95, 1.0, 1.04, 1.07, 1.06, 1.02, 0.99, 0.97];
/** 街道 first: the urban core is denser than the towns. */
const STREET_WEIGHTS = [2.2, 2.0, 1.8, 1.6, 1.2];

export interface RegionRow {
  id: number;
  code: string;
  name: string;
  level: RegionLevel;
  parentId: number | null;
  educationOffice: string | null;
}

export interface VillagePlan {
  id: number;
  code: string;
  name: string;
}

export interface TownPlan {
  id: number;
  code: string;
  name: string;
  street: boolean;
  weight: number;
  villages: VillagePlan[];
}

export interface ClassPlan {
  id: number;
  schoolId: number;
  grade: number;
  name: string;
  headTeacher: string;
  regionCode: string;
  pupils: number;
}

export interface SchoolPlan {
  id: number;
  code: string;
  name: string;
  kind: SchoolKind;
  ownership: SchoolOwnership;
  regionId: number;
  regionCode: string;
  address: string;
  principal: string;
  phone: string;
  classes: ClassPlan[];
}

export interface CountyPlan {
  seed: number;
  year: number;
  pupils: number;
  suspects: number;
  regions: RegionRow[];
  towns: TownPlan[];
  schools: SchoolPlan[];
}

function cnNumber(n: number): string {
  const digits = '零一二三四五六七八九';
  if (n < 10) return digits[n]!;
  const tens = Math.floor(n / 10);
  return `${tens === 1 ? '' : digits[tens]}十${n % 10 ? digits[n % 10] : ''}`;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function planRegions(rng: Random): { regions: RegionRow[]; towns: TownPlan[] } {
  const regions: RegionRow[] = [
    { id: 1, code: PROVINCE.code, name: PROVINCE.name, level: 'PROVINCE', parentId: null, educationOffice: null },
    { id: 2, code: CITY.code, name: CITY.name, level: 'CITY', parentId: 1, educationOffice: null },
    { id: 3, code: COUNTY.code, name: COUNTY.name, level: 'COUNTY', parentId: 2, educationOffice: null },
  ];
  const towns: TownPlan[] = TOWN_NAMES.map((name, i) => {
    const street = name.endsWith('街道');
    return {
      id: 4 + i,
      code: `${COUNTY.code}${pad(i + 1, 3)}`,
      name,
      street,
      weight: street ? STREET_WEIGHTS[i]! : rng.int(70, 130) / 100,
      villages: [],
    };
  });
  for (const t of towns) {
    regions.push({
      id: t.id,
      code: t.code,
      name: t.name,
      level: 'TOWN',
      parentId: 3,
      educationOffice: `${t.name}教育办`,
    });
  }
  let nextId = 4 + towns.length;
  for (const t of towns) {
    const taken = new Set<string>();
    const count = rng.int(3, 6);
    for (let v = 1; v <= count; v++) {
      const village = { id: nextId++, code: `${t.code}${pad(v, 3)}`, name: villageName(rng, t.street, taken) };
      t.villages.push(village);
      regions.push({ ...village, level: 'VILLAGE', parentId: t.id, educationOffice: null });
    }
  }
  return { regions, towns };
}

interface SchoolDraft {
  kind: SchoolKind;
  ownership: SchoolOwnership;
  town: TownPlan;
  name: string;
  /** Relative size among the schools sharing a grade. */
  size: number;
}

/** How many schools of each kind; capped by the 学校标识码 space (then the schools grow). */
function schoolCounts(pupils: number) {
  const regular = pupils * (1 - SPECIAL_SHARE);
  let nine = Math.round((pupils * NINE_YEAR_SHARE) / NINE_YEAR_PUPILS_PER_SCHOOL);
  const inNine = nine > 0 ? NINE_YEAR_SHARE : 0;
  let primary = Math.max(1, Math.round((regular * (1 - inNine) * (6 / 9)) / PRIMARY_PUPILS_PER_SCHOOL));
  let middle = Math.max(1, Math.round((regular * (1 - inNine) * (3 / 9)) / MIDDLE_PUPILS_PER_SCHOOL));
  const total = primary + middle + nine;
  if (total > MAX_SCHOOLS - 1) {
    const f = (MAX_SCHOOLS - 1) / total;
    primary = Math.max(1, Math.floor(primary * f));
    middle = Math.max(1, Math.floor(middle * f));
    nine = Math.floor(nine * f);
  }
  return { primary, middle, nine };
}

function draftSchools(rng: Random, towns: TownPlan[], pupils: number): SchoolDraft[] {
  const counts = schoolCounts(pupils);
  const weights = towns.map((t) => t.weight);
  const drafts: SchoolDraft[] = [];
  const names = new Set<string>();
  const unique = (preferred: string, fallback: (n: number) => string) => {
    let name = preferred;
    for (let n = 2; names.has(name); n++) name = fallback(n);
    names.add(name);
    return name;
  };
  const perTown = {
    PRIMARY: apportion(counts.primary, weights),
    NINE_YEAR: apportion(counts.nine, weights),
    MIDDLE: apportion(counts.middle, weights),
  };
  towns.forEach((town, t) => {
    const prefix = `滕州市${town.name}`;
    // 张庄村 → 张庄小学, but 高村 stays 高村小学.
    const place = (i: number) => town.villages[i % town.villages.length]!.name.replace(/^(..+?)(村|社区)$/, '$1');
    for (let i = 0; i < perTown.PRIMARY[t]!; i++) {
      const name = unique(
        i === 0 ? `${prefix}中心小学` : `${prefix}${place(i - 1)}小学`,
        (n) => `${prefix}第${cnNumber(n)}小学`,
      );
      drafts.push({ kind: 'PRIMARY', ownership: 'PUBLIC', town, name, size: 0.6 + rng.next() * 0.8 });
    }
    for (let i = 0; i < perTown.NINE_YEAR[t]!; i++) {
      const name = unique(`${prefix}${place(i + 2)}学校`, (n) => `${prefix}第${cnNumber(n)}学校`);
      drafts.push({ kind: 'NINE_YEAR', ownership: 'PUBLIC', town, name, size: 0.6 + rng.next() * 0.8 });
    }
    for (let i = 0; i < perTown.MIDDLE[t]!; i++) {
      const name = unique(i === 0 ? `${prefix}中学` : `${prefix}第${cnNumber(i + 1)}中学`, (n) => `${prefix}中学${n}`);
      drafts.push({ kind: 'MIDDLE', ownership: 'PUBLIC', town, name, size: 0.6 + rng.next() * 0.8 });
    }
  });
  // A couple of private schools, in the urban streets where they are in practice.
  const privateCount = drafts.length >= 20 ? 2 : drafts.length >= 4 ? 1 : 0;
  const privateKinds: SchoolKind[] = ['PRIMARY', counts.nine > 0 ? 'NINE_YEAR' : 'MIDDLE'];
  for (let p = 0; p < privateCount; p++) {
    const kind = privateKinds[p]!;
    const candidates = drafts.filter((d) => d.kind === kind && d.ownership === 'PUBLIC');
    const chosen = candidates.filter((d) => d.town.street).at(-1) ?? candidates.at(-1);
    if (!chosen) continue;
    chosen.ownership = 'PRIVATE';
    names.delete(chosen.name);
    const suffix = kind === 'PRIMARY' ? '小学' : kind === 'MIDDLE' ? '中学' : '学校';
    chosen.name = unique(`滕州市${PRIVATE_NAMES[p]}${suffix}`, (n) => `滕州市${PRIVATE_NAMES[p]}${suffix}${n}`);
  }
  drafts.push({ kind: 'SPECIAL', ownership: 'PUBLIC', town: towns[0]!, name: '滕州市特殊教育学校', size: 1 });
  return drafts;
}

/** Grades a school teaches. */
function teaches(kind: SchoolKind, grade: number): boolean {
  if (kind === 'PRIMARY') return grade <= 6;
  if (kind === 'MIDDLE') return grade >= 7;
  return true;
}

/** Builds regions, schools and classes. Pure: the same options give the same plan. */
export function planCounty(options: DemoOptions = {}): CountyPlan {
  const { pupils, seed, year } = demoOptionsSchema.parse(options);
  const rng = new Random(seed, 0);
  const { regions, towns } = planRegions(rng);
  const drafts = draftSchools(rng, towns, pupils);

  // Pupils per grade, then per school: the special school takes its share of every grade, the
  // nine-year schools theirs, the primary or middle schools the rest (by size).
  const perGrade = apportion(pupils, COHORT_WEIGHTS);
  const special = apportion(Math.max(1, Math.round(pupils * SPECIAL_SHARE)), perGrade);
  const seats = drafts.map(() => new Array<number>(10).fill(0));
  const hasNine = drafts.some((d) => d.kind === 'NINE_YEAR');
  for (let g = 1; g <= 9; g++) {
    const regular = perGrade[g - 1]! - special[g - 1]!;
    const nine = hasNine ? Math.round(regular * NINE_YEAR_SHARE) : 0;
    const share = (kinds: SchoolKind[], total: number) => {
      const idx = drafts.flatMap((d, i) => (kinds.includes(d.kind) && teaches(d.kind, g) ? [i] : []));
      const parts = apportion(
        total,
        idx.map((i) => drafts[i]!.size),
      );
      idx.forEach((i, k) => (seats[i]![g] = parts[k]!));
    };
    share(['SPECIAL'], special[g - 1]!);
    share(['NINE_YEAR'], nine);
    share(['PRIMARY', 'MIDDLE'], regular - nine);
  }

  const schools: SchoolPlan[] = [];
  let classId = 0;
  drafts.forEach((d, i) => {
    const id = i + 1;
    const classes: ClassPlan[] = [];
    for (let g = 1; g <= 9; g++) {
      const n = seats[i]![g]!;
      if (n === 0) continue;
      const size = d.kind === 'SPECIAL' ? SPECIAL_CLASS_SIZE : CLASS_SIZE;
      const k = d.kind === 'SPECIAL' ? Math.ceil(n / size) : Math.max(1, Math.round(n / size));
      apportion(n, new Array<number>(k).fill(1)).forEach((count, c) => {
        classes.push({
          id: ++classId,
          schoolId: id,
          grade: g,
          name: `${GRADE_NAMES[g - 1]}(${c + 1})班`,
          headTeacher: adultName(rng, rng.chance(0.65) ? 'FEMALE' : 'MALE'),
          regionCode: d.town.code,
          pupils: count,
        });
      });
    }
    schools.push({
      id,
      code: `${SCHOOL_CODE_PREFIX}${pad(id, 2)}`,
      name: d.name,
      kind: d.kind,
      ownership: d.ownership,
      regionId: d.town.id,
      regionCode: d.town.code,
      address: d.town.street
        ? `山东省滕州市${d.town.name}${rng.pick(ROADS)}${rng.int(1, 399)}号`
        : `山东省滕州市${d.town.name}${rng.pick(d.town.villages).name}`,
      principal: adultName(rng, rng.chance(0.6) ? 'MALE' : 'FEMALE'),
      phone: `0632-${rng.int(5500000, 5999999)}`,
      classes,
    });
  });
  return { seed, year, pupils, suspects: Math.round(pupils * SUSPECT_SHARE), regions, towns, schools };
}

// ───────────────────────────── children ─────────────────────────────

const DAY = 86_400_000;

/**
 * 身份证号 without repeats: per birth date and sex a counter walks a permutation of the 3-digit
 * sequence numbers (odd for boys, even for girls), so no set of issued numbers is kept.
 */
export class IdNumbers {
  private readonly start: number;
  private readonly used: Uint16Array;

  constructor(private readonly year: number) {
    this.start = Date.UTC(year - 15, 8, 1);
    this.used = new Uint16Array(((Date.UTC(year - 5, 8, 1) - this.start) / DAY) * 2);
  }

  /** Grade g in school year Y: born 1 Sep (Y−6−g) … 31 Aug (Y−5−g). */
  window(grade: number): { from: Date; to: Date } {
    return {
      from: new Date(Date.UTC(this.year - 6 - grade, 8, 1)),
      to: new Date(Date.UTC(this.year - 5 - grade, 7, 31)),
    };
  }

  allocate(rng: Random, grade: number, gender: Gender): { idNumber: string; birthDate: Date } {
    const { from, to } = this.window(grade);
    const days = (to.getTime() - from.getTime()) / DAY + 1;
    const first = rng.int(0, days - 1);
    const male = gender === 'MALE';
    for (let k = 0; k < days; k++) {
      const day = (from.getTime() - this.start) / DAY + ((first + k) % days);
      const slot = day * 2 + (male ? 1 : 0);
      const n = this.used[slot]!;
      if (n >= (male ? 500 : 499)) continue;
      this.used[slot] = n + 1;
      const seq = male ? 2 * ((n * 317 + day) % 500) + 1 : 2 * (1 + ((n * 317 + day) % 499));
      const birthDate = new Date(this.start + day * DAY);
      const first17 = `${COUNTY.code}${birthDate.toISOString().slice(0, 10).replaceAll('-', '')}${pad(seq, 3)}`;
      return { idNumber: first17 + idCheckChar(first17), birthDate };
    }
    throw new Error(`No unused 身份证号 left for grade ${grade} (${gender}): too many pupils for one county`);
  }
}

export interface ListEntry {
  kind: ListKind;
  lineNumber: number;
  year: number;
  childId: string;
  regionCode: string;
  category: string | null;
}

/** The rows of one school's pupils (or, with `school` null, of the children found in no register). */
export interface PupilGroup {
  school: SchoolPlan | null;
  children: Prisma.ChildCreateManyInput[];
  guardians: Prisma.GuardianCreateManyInput[];
  registry: Prisma.RegistryRecordCreateManyInput[];
  changes: Prisma.RegistryChangeCreateManyInput[];
  entries: ListEntry[];
}

interface FlagRates {
  poor: number;
  disabled: number;
  difficulty: number;
}
/** 残疾 0.8 % overall: the special school's pupils are all disabled, the rest are in regular classes (随班就读). */
const PUPIL_RATES: FlagRates = { poor: 0.04, disabled: 0.0065, difficulty: 0.005 };
/** Children missing from the registers are more often poor, disabled or in difficulty (因病因残). */
const SUSPECT_RATES: FlagRates = { poor: 0.1, disabled: 0.15, difficulty: 0.03 };

function drawFlags(rng: Random, rates: FlagRates, disabled: boolean): VulnerabilityFlag[] {
  const flags: VulnerabilityFlag[] = [];
  if (rng.chance(rates.poor)) flags.push('REGISTERED_POOR');
  if (disabled || rng.chance(rates.disabled)) flags.push('DISABLED');
  const care = rng.next();
  if (care < 0.001) flags.push('ORPHAN');
  else if (care < 0.002) flags.push('NO_CAREGIVER');
  if (rng.chance(rates.difficulty)) flags.push('IN_DIFFICULTY');
  const move = rng.next();
  if (move < 0.08) flags.push('LEFT_BEHIND');
  else if (move < 0.14) flags.push('MIGRANT');
  if (!flags.includes('ORPHAN') && rng.chance(0.05)) flags.push('SINGLE_PARENT');
  if (rng.chance(0.0005)) flags.push('PRISONER_CHILD');
  if (rng.chance(0.03)) flags.push('LEARNING_DIFFICULTY');
  return flags;
}

const RELATIVES: [string, Sex, boolean][] = [
  ['祖父', 'MALE', true],
  ['祖母', 'FEMALE', false],
  ['外祖父', 'MALE', false],
  ['外祖母', 'FEMALE', false],
  ['叔叔', 'MALE', true],
  ['姑姑', 'FEMALE', true],
  ['舅舅', 'MALE', false],
];

function guardiansOf(rng: Random, childId: string, family: string, flags: VulnerabilityFlag[]) {
  const person = (relation: string, sex: Sex, sameFamily: boolean): Prisma.GuardianCreateManyInput => ({
    childId,
    relation,
    name: adultName(rng, sex, sameFamily ? family : undefined),
    phone: mobile(rng),
  });
  const father = () => person('父亲', 'MALE', true);
  const mother = () => person('母亲', 'FEMALE', false);
  if (flags.includes('ORPHAN') || flags.includes('NO_CAREGIVER')) return [person(...rng.pick(RELATIVES))];
  if (flags.includes('LEFT_BEHIND')) {
    // Grandparents care for the child; a parent working away stays reachable.
    const grandparent = rng.chance(0.5) ? person('祖父', 'MALE', true) : person('祖母', 'FEMALE', false);
    return [grandparent, rng.chance(0.6) ? father() : mother()];
  }
  if (flags.includes('SINGLE_PARENT')) return [rng.chance(0.7) ? mother() : father()];
  return rng.chance(0.75) ? [father(), mother()] : [rng.chance(0.5) ? father() : mother()];
}

function listCategory(rng: Random, kind: Exclude<ListKind, 'HOUSEHOLD'>, flags: VulnerabilityFlag[]): string {
  if (kind === 'POVERTY') return POVERTY_CATEGORIES.pick(rng);
  if (kind === 'DISABILITY') return rng.pick(DISABILITIES) + rng.pick(DISABILITY_GRADES);
  if (flags.includes('ORPHAN')) return '孤儿';
  if (flags.includes('NO_CAREGIVER')) return '事实无人抚养儿童';
  return rng.pick(DIFFICULTY_CATEGORIES);
}

/** Generates every child: one group per school, in the plan's order, then the suspects. */
export function* generatePupils(plan: CountyPlan): Generator<PupilGroup> {
  const rng = new Random(plan.seed, 1);
  const ids = new IdNumbers(plan.year);
  const townPicker = new Weighted(
    plan.towns,
    plan.towns.map((t) => t.weight),
  );
  const lines: Record<ListKind, number> = { HOUSEHOLD: 2, POVERTY: 2, DISABILITY: 2, WELFARE: 2 };
  let serial = 0;
  let recordId = 0;

  const otherTown = (town: TownPlan) => {
    for (;;) {
      const t = townPicker.pick(rng);
      if (t !== town) return t;
    }
  };
  const homeAddress = (town: TownPlan) => {
    const village = rng.pick(town.villages);
    const address = town.street
      ? `山东省滕州市${town.name}${village.name}${rng.int(1, 40)}号楼${rng.int(1, 4)}单元${rng.int(1, 18)}0${rng.int(1, 4)}室`
      : `山东省滕州市${town.name}${village.name}${rng.int(1, 260)}号`;
    return { village, address };
  };
  const cityAddress = (town: TownPlan) => `山东省滕州市${town.name}${rng.pick(ROADS)}${rng.int(1, 399)}号`;
  const streets = plan.towns.filter((t) => t.street);

  /** One child living in `near`: a pupil of `cls` at `school`, or (without them) a child in no register. */
  function child(group: PupilGroup, grade: number, near: TownPlan, school?: SchoolPlan, cls?: ClassPlan) {
    const suspect = !school;
    const flags = drawFlags(rng, suspect ? SUSPECT_RATES : PUPIL_RATES, school?.kind === 'SPECIAL');
    // 户籍: mostly the school's town; 随迁 children and ~4 % others are registered in another town;
    // the special school takes children from the whole county.
    let town = near;
    if (school?.kind === 'SPECIAL') town = townPicker.pick(rng);
    else if (school && (flags.includes('MIGRANT') || rng.chance(0.045))) town = otherTown(near);
    const gender: Gender = rng.chance(0.535) ? 'MALE' : 'FEMALE';
    const { idNumber, birthDate } = ids.allocate(rng, grade, gender);
    const family = surname(rng);
    const id = rng.uuid(++serial);
    const home = homeAddress(town);
    let residence = home.address;
    if (flags.includes('MIGRANT')) residence = cityAddress(near);
    else if (suspect && rng.chance(0.4)) residence = `${rng.pick(AWAY_CITIES)}（随父母务工）`;
    else if (rng.chance(0.12)) residence = cityAddress(rng.pick(streets));
    group.children.push({
      id,
      idNumber,
      name: childName(rng, family, gender),
      gender,
      birthDate,
      studentNumber: suspect ? null : `G${idNumber}`,
      householdRegionId: home.village.id,
      householdAddress: home.address,
      residenceAddress: residence,
      regionCode: town.code,
      flags,
      currentSchoolId: school?.id ?? null,
      currentClassId: cls?.id ?? null,
    });
    group.guardians.push(...guardiansOf(rng, id, family, flags));
    if (school && cls) {
      // Dropping out happens mostly in middle school; in primary school it is mostly illness (休学).
      const leaves = rng.chance(grade >= 7 ? 0.004 : 0.001);
      const status: RegistryStatus = !leaves
        ? 'ENROLLED'
        : rng.chance(grade >= 7 ? 0.7 : 0.3)
          ? 'DROPPED_OUT'
          : 'SUSPENDED';
      const record = ++recordId;
      group.registry.push({
        id: record,
        childId: id,
        schoolYear: plan.year,
        schoolId: school.id,
        classId: cls.id,
        grade,
        status,
        regionCode: school.regionCode,
      });
      if (status !== 'ENROLLED') {
        group.changes.push({
          recordId: record,
          kind: status === 'DROPPED_OUT' ? 'DROPOUT' : 'SUSPEND',
          date: new Date(Date.UTC(plan.year, 8, 1 + rng.int(7, 75))),
          note: rng.pick(status === 'DROPPED_OUT' ? DROPOUT_NOTES : SUSPEND_NOTES),
        });
      }
    }
    const entry = (kind: ListKind, category: string | null) =>
      group.entries.push({
        kind,
        lineNumber: lines[kind]++,
        year: plan.year,
        childId: id,
        regionCode: town.code,
        category,
      });
    entry('HOUSEHOLD', null);
    if (flags.includes('REGISTERED_POOR')) entry('POVERTY', listCategory(rng, 'POVERTY', flags));
    if (flags.includes('DISABLED')) entry('DISABILITY', listCategory(rng, 'DISABILITY', flags));
    if (flags.some((f) => f === 'ORPHAN' || f === 'NO_CAREGIVER' || f === 'IN_DIFFICULTY')) {
      entry('WELFARE', listCategory(rng, 'WELFARE', flags));
    }
  }

  const empty = (school: SchoolPlan | null): PupilGroup => ({
    school,
    children: [],
    guardians: [],
    registry: [],
    changes: [],
    entries: [],
  });
  for (const school of plan.schools) {
    const group = empty(school);
    const town = plan.towns.find((t) => t.code === school.regionCode)!;
    for (const cls of school.classes) for (let i = 0; i < cls.pupils; i++) child(group, cls.grade, town, school, cls);
    yield group;
  }
  // Not in any register: often the youngest (deferred) and the oldest (left over-age).
  const grades = new Weighted([1, 2, 3, 4, 5, 6, 7, 8, 9], [2, 1, 1, 1, 1, 1, 1, 1.2, 1.5]);
  const suspects = empty(null);
  for (let i = 0; i < plan.suspects; i++) child(suspects, grades.pick(rng), townPicker.pick(rng));
  yield suspects;
}

// ───────────────────────────── users ─────────────────────────────

export interface UserPlan {
  username: string;
  displayName: string;
  role: Role;
  regionId: number;
  regionCode: string;
  schoolId: number | null;
  classId: number | null;
}

/** One user per county role, town, school and class; usernames follow fixed patterns. */
export function demoUsers(plan: CountyPlan): UserPlan[] {
  const county = (username: string, role: Role, displayName: string): UserPlan => ({
    username,
    displayName,
    role,
    regionId: 3,
    regionCode: COUNTY.code,
    schoolId: null,
    classId: null,
  });
  const users: UserPlan[] = [
    { ...county('admin', 'ADMIN', '系统管理员'), regionId: 1, regionCode: PROVINCE.code },
    county('bureau', 'BUREAU', '滕州市教育局'),
    county('justice', 'JUSTICE', '滕州市司法局'),
    county('police', 'POLICE', '滕州市公安局'),
    county('policy', 'POLICY', '滕州市教育局政策法规科'),
    county('supervisor', 'SUPERVISOR', '滕州市教育督导室'),
  ];
  for (const t of plan.towns) {
    users.push({
      username: `town-${t.code}`,
      displayName: `${t.name}教育办`,
      role: 'TOWN',
      regionId: t.id,
      regionCode: t.code,
      schoolId: null,
      classId: null,
    });
  }
  for (const s of plan.schools) {
    const school = { regionId: s.regionId, regionCode: s.regionCode, schoolId: s.id };
    users.push({ username: `school-${s.code}`, displayName: s.name, role: 'SCHOOL', ...school, classId: null });
    for (const c of s.classes) {
      users.push({
        username: `teacher-${c.id}`,
        displayName: `${c.headTeacher}（${s.name}${c.name}班主任）`,
        role: 'TEACHER',
        ...school,
        classId: c.id,
      });
    }
  }
  return users;
}

// ───────────────────────────── summary ─────────────────────────────

export interface DemoSummary {
  seed: number;
  year: number;
  regions: number;
  schools: number;
  schoolsByKind: Record<SchoolKind, number>;
  privateSchools: number;
  classes: number;
  /** Enrolled pupils plus the children found in no register. */
  children: number;
  guardians: number;
  registryRecords: number;
  registryByStatus: Record<'ENROLLED' | 'DROPPED_OUT' | 'SUSPENDED', number>;
  departmentEntries: Record<ListKind, number>;
  users: number;
  usersByRole: Record<Role, number>;
  /** Children in the household list with no registry record this year: what verification must find. */
  suspects: { total: number; byTown: Record<string, number>; childIds: string[] };
}

const countBy = <K extends string>(keys: readonly K[], values: Iterable<K>): Record<K, number> => {
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const v of values) out[v] += 1;
  return out;
};

/** The counts known from the plan; the children's are added per group (addToSummary). */
export function startSummary(plan: CountyPlan, users: UserPlan[]): DemoSummary {
  const kinds: SchoolKind[] = ['PRIMARY', 'MIDDLE', 'NINE_YEAR', 'SPECIAL'];
  const roles: Role[] = ['TEACHER', 'SCHOOL', 'TOWN', 'BUREAU', 'JUSTICE', 'POLICE', 'POLICY', 'SUPERVISOR', 'ADMIN'];
  return {
    seed: plan.seed,
    year: plan.year,
    regions: plan.regions.length,
    schools: plan.schools.length,
    schoolsByKind: countBy(
      kinds,
      plan.schools.map((s) => s.kind),
    ),
    privateSchools: plan.schools.filter((s) => s.ownership === 'PRIVATE').length,
    classes: plan.schools.reduce((n, s) => n + s.classes.length, 0),
    children: 0,
    guardians: 0,
    registryRecords: 0,
    registryByStatus: { ENROLLED: 0, DROPPED_OUT: 0, SUSPENDED: 0 },
    departmentEntries: { HOUSEHOLD: 0, POVERTY: 0, DISABILITY: 0, WELFARE: 0 },
    users: users.length,
    usersByRole: countBy(
      roles,
      users.map((u) => u.role),
    ),
    suspects: { total: 0, byTown: {}, childIds: [] },
  };
}

export function addToSummary(summary: DemoSummary, group: PupilGroup): void {
  summary.children += group.children.length;
  summary.guardians += group.guardians.length;
  summary.registryRecords += group.registry.length;
  for (const r of group.registry) summary.registryByStatus[r.status as keyof DemoSummary['registryByStatus']] += 1;
  for (const e of group.entries) summary.departmentEntries[e.kind] += 1;
  if (group.school) return;
  for (const c of group.children) {
    summary.suspects.total += 1;
    summary.suspects.byTown[c.regionCode] = (summary.suspects.byTown[c.regionCode] ?? 0) + 1;
    summary.suspects.childIds.push(c.id!);
  }
}
