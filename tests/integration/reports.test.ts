/**
 * Against the real API and database: the comparison of the base database with the registers, and the
 * three statutory reports on data written here with known answers — exact numbers per town, round and
 * school, the town's and the school's restricted views, and downloads that parse back to the JSON.
 *
 * The rows live in school year 2040 (cohort 2032–2040, reporting period 2041-03) and in three schools of
 * our own, so the seeded demo county (school year 2026) does not touch the numbers asserted. They are
 * removed afterwards; the audit rows of the downloads stay (the log is append-only).
 */
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  CaseOutcome,
  CaseStatus,
  ImportKind,
  RegistryStatus,
  SchoolKind,
  VulnerabilityFlag,
} from '../../generated/prisma/client.js';
import { hashPassword } from '../../api/auth/password.js';
import { compareBaseWithRegistry, nextRound } from '../../api/domain/comparison.js';
import { idCheckChar } from '../../api/domain/id-number.js';
import type { DropoutReport } from '../../api/reports/dropouts.js';
import type { RetentionReport } from '../../api/reports/retention.js';
import type { VerificationReport } from '../../api/reports/verification.js';
import { createPrisma } from '../../infra/db/prisma.js';
import { DEMO_PASSWORD } from '../../infra/seed/demo.js';
import { api, as, loginAs } from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));

const COUNTY = '370481';
const T1 = '370481001';
const YEAR = 2040;
const SCHOOL_USER = 'school-reports-test';

let T2: string;
let campaignId: number;
let otherCampaignId: number;
const schools: Record<'S1' | 'S2' | 'S3', { id: number; code: string }> = {} as never;
const children: Record<string, string> = {};
const batches: number[] = [];
let bureau: Awaited<ReturnType<typeof as>>;
let town: Awaited<ReturnType<typeof as>>;

let serial = 0;
/** A valid 身份证号 of the county for a birth date (after the demo's children: no collision). */
function idNumber(birth: string): string {
  const first17 = `${COUNTY}${birth.replaceAll('-', '')}${String(900 + serial++).padStart(3, '0')}`;
  return first17 + idCheckChar(first17);
}

/** Born mid-March, so `age` on 31 August of the report year. */
const bornAged = (age: number) => `${YEAR - age}-03-15`;

async function child(key: string, household: string, birth: string, flags: VulnerabilityFlag[] = []) {
  const row = await prisma.child.create({
    data: {
      idNumber: idNumber(birth),
      name: `报表${key}`,
      gender: serial % 2 ? 'MALE' : 'FEMALE',
      birthDate: new Date(`${birth}T00:00:00Z`),
      regionCode: household,
      flags,
    },
  });
  children[key] = row.id;
}

async function record(
  key: string,
  schoolYear: number,
  school: keyof typeof schools,
  grade: number,
  status: RegistryStatus = 'ENROLLED',
) {
  const s = schools[school];
  const regionCode = school === 'S3' ? T2 : T1;
  return prisma.registryRecord.create({
    data: { childId: children[key]!, schoolYear, schoolId: s.id, grade, status, regionCode },
  });
}

/** Grades g1…g2 of the 2040 cohort's path (grade g in 2031 + g), all at one school. */
async function path(key: string, school: keyof typeof schools, g1: number, g2: number, last?: RegistryStatus) {
  for (let g = g1; g <= g2; g++) await record(key, 2031 + g, school, g, g === g2 && last ? last : 'ENROLLED');
}

async function list(kind: ImportKind, keys: string[]) {
  const batch = await prisma.importBatch.create({
    data: {
      kind,
      regionCode: COUNTY,
      year: YEAR,
      fileName: `${kind}.csv`,
      sha256: `reports-test-${kind}`,
      rowCount: keys.length,
    },
  });
  batches.push(batch.id);
  await prisma.departmentListEntry.createMany({
    data: keys.map((key, i) => ({
      batchId: batch.id,
      lineNumber: i + 2,
      kind,
      year: YEAR,
      childId: children[key]!,
      regionCode: key.startsWith('m') ? T2 : T1,
    })),
  });
}

let caseNo = 0;
async function dropoutCase(
  key: string,
  school: keyof typeof schools,
  openedAt: string,
  closed?: { at: string; status: CaseStatus; outcome: CaseOutcome },
) {
  await prisma.dropoutCase.create({
    data: {
      childId: children[key]!,
      schoolId: schools[school].id,
      regionCode: school === 'S3' ? T2 : T1,
      processInstanceKey: `reports-test-${caseNo++}`,
      openedAt: new Date(`${openedAt}T10:00:00+08:00`),
      closedAt: closed ? new Date(`${closed.at}T10:00:00+08:00`) : null,
      status: closed?.status ?? 'OPEN',
      outcome: closed?.outcome ?? null,
    },
  });
}

beforeAll(async () => {
  const towns = await prisma.region.findMany({
    where: { level: 'TOWN', code: { startsWith: COUNTY } },
    orderBy: { code: 'asc' },
  });
  const t1 = towns.find((t) => t.code === T1)!;
  const t2 = towns.find((t) => t.code !== T1)!;
  T2 = t2.code;
  const kinds: [keyof typeof schools, SchoolKind, typeof t1][] = [
    ['S1', 'PRIMARY', t1],
    ['S2', 'MIDDLE', t1],
    ['S3', 'NINE_YEAR', t2],
  ];
  for (const [key, kind, t] of kinds) {
    const code = `99048100${key.slice(1).padStart(2, '0')}`;
    const s = await prisma.school.create({
      data: { code, name: `报表测试${key}`, kind, regionId: t.id, regionCode: t.code },
    });
    schools[key] = { id: s.id, code };
  }
  await prisma.user.create({
    data: {
      username: SCHOOL_USER,
      displayName: '报表测试S1',
      passwordHash: await hashPassword(DEMO_PASSWORD),
      role: 'SCHOOL',
      regionId: t1.id,
      regionCode: T1,
      schoolId: schools.S1.id,
    },
  });

  // Base database of 2040: k* live in T1, m* in T2; o1 is 16, past compulsory age.
  const ages: Record<string, number> = {
    k1: 6,
    k2: 8,
    k3: 10,
    k4: 13,
    k5: 7,
    k6: 7,
    m1: 9,
    m2: 11,
    m3: 14,
    m4: 6,
    o1: 16,
  };
  for (const [key, age] of Object.entries(ages)) {
    await child(key, key.startsWith('m') ? T2 : T1, bornAged(age), key === 'k4' ? ['DISABLED'] : []);
  }
  await list('HOUSEHOLD', Object.keys(ages));
  await list('POVERTY', ['k1', 'm4']);
  await record('k1', YEAR, 'S1', 1);
  await record('k2', YEAR, 'S1', 3, 'SUSPENDED');
  await record('k3', YEAR, 'S3', 5);
  const k4 = await record('k4', YEAR, 'S2', 8, 'DROPPED_OUT');
  await prisma.registryChange.create({ data: { recordId: k4.id, kind: 'DROPOUT', date: new Date('2041-01-05') } });
  await record('k6', YEAR, 'S1', 2, 'TRANSFERRED');
  await record('m1', YEAR, 'S3', 4);

  // Pupils of the dropout table (not on the lists).
  await child('p1', T1, bornAged(9), ['REGISTERED_POOR']);
  await record('p1', YEAR, 'S1', 4);
  await dropoutCase('p1', 'S1', '2041-01-10');
  await child('p2', T1, bornAged(12));
  await record('p2', YEAR, 'S2', 7);
  await dropoutCase('p2', 'S2', '2040-12-01', { at: '2041-02-01', status: 'RETURNED', outcome: 'RETURNED' });
  await child('p3', T1, bornAged(13));
  await record('p3', YEAR, 'S2', 8);
  await dropoutCase('p3', 'S2', '2041-03-20', { at: '2041-04-10', status: 'RETURNED', outcome: 'RETURNED' });
  await child('p4', T1, bornAged(7));
  await record('p4', YEAR, 'S1', 2);
  await dropoutCase('p4', 'S1', '2041-04-05');
  await child('p5', T1, bornAged(10));
  const p5 = await record('p5', YEAR, 'S1', 5, 'DROPPED_OUT');
  await prisma.registryChange.create({ data: { recordId: p5.id, kind: 'DROPOUT', date: new Date('2041-05-01') } });
  await child('p6', T2, bornAged(13));
  await record('p6', YEAR, 'S3', 8);
  await dropoutCase('p6', 'S3', '2040-10-01', { at: '2041-01-15', status: 'CLOSED', outcome: 'UNFOUNDED' });
  await child('p7', T2, bornAged(11));
  await record('p7', YEAR, 'S3', 6);
  await dropoutCase('p7', 'S3', '2040-09-20', { at: '2040-12-01', status: 'REFERRED', outcome: 'REFERRED' });
  await child('p8', T1, bornAged(11), ['REGISTERED_POOR', 'LEFT_BEHIND']);
  await record('p8', YEAR, 'S1', 6, 'DROPPED_OUT');
  await dropoutCase('p8', 'S1', '2041-02-01');

  // The cohort in grade 9 in 2040 (grade 1 in 2032).
  for (const key of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8']) await child(key, T1, bornAged(14));
  await path('c1', 'S1', 1, 6);
  await path('c1', 'S2', 7, 9, 'GRADUATED'); // stays in T1, graduates
  await path('c2', 'S1', 1, 6);
  await path('c2', 'S2', 7, 9); // in grade 9, not graduated
  await path('c3', 'S1', 1, 3);
  await path('c3', 'S3', 4, 9, 'GRADUATED'); // T1 → T2 inside the county
  await path('c4', 'S1', 1, 4, 'TRANSFERRED'); // leaves the county's registers
  await path('c5', 'S3', 5, 9, 'GRADUATED'); // joins in grade 5 from outside
  await path('c6', 'S1', 1, 2, 'DROPPED_OUT'); // vanishes: a loss, not a transfer
  await path('c7', 'S1', 1, 3);
  await record('c7', 2035, 'S1', 3); // repeats grade 3: leaves the cohort
  await path('c8', 'S3', 1, 9, 'GRADUATED');

  campaignId = (await prisma.campaign.create({ data: { regionCode: COUNTY, year: YEAR } })).id;
  otherCampaignId = (await prisma.campaign.create({ data: { regionCode: '370402', year: YEAR } })).id;
  bureau = await as('bureau');
  town = await as(`town-${T1}`);
});

afterAll(async () => {
  const childIds = Object.values(children);
  await prisma.suspectedChild.deleteMany({ where: { campaignId: { in: [campaignId, otherCampaignId] } } });
  await prisma.campaign.deleteMany({ where: { id: { in: [campaignId, otherCampaignId] } } });
  await prisma.dropoutCase.deleteMany({ where: { childId: { in: childIds } } });
  await prisma.registryChange.deleteMany({ where: { record: { childId: { in: childIds } } } });
  await prisma.registryRecord.deleteMany({ where: { childId: { in: childIds } } });
  await prisma.departmentListEntry.deleteMany({ where: { batchId: { in: batches } } });
  await prisma.importBatch.deleteMany({ where: { id: { in: batches } } });
  await prisma.child.deleteMany({ where: { id: { in: childIds } } });
  await prisma.user.deleteMany({ where: { username: SCHOOL_USER } });
  await prisma.school.deleteMany({ where: { id: { in: Object.values(schools).map((s) => s.id) } } });
  await prisma.$disconnect();
});

/** A download as the holder of `token`: status, headers and raw bytes. */
async function download(path: string, token: string) {
  const res = await fetch(`${inject('apiUrl')}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

function parseCsv(bytes: Buffer): string[][] {
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  return parse(bytes.subarray(3).toString('utf8'), { relax_column_count: false }) as string[][];
}

async function parseXlsx(bytes: Buffer): Promise<unknown[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ExcelJS.Buffer);
  const rows: unknown[][] = [];
  workbook.worksheets[0]!.eachRow({ includeEmpty: true }, (row) => {
    rows.push((row.values as unknown[]).slice(1));
  });
  return rows;
}

/** The cell of `header` in the row whose first cells are `key`. */
function cell(rows: unknown[][], key: unknown[], header: string): unknown {
  const col = rows[0]!.indexOf(header);
  expect(col, header).toBeGreaterThanOrEqual(0);
  const row = rows.find((r) => key.every((k, i) => r[i] === k));
  expect(row, JSON.stringify(key)).toBeDefined();
  return row![col];
}

describe('compareBaseWithRegistry', () => {
  it('lists each listed child without an ENROLLED or SUSPENDED record of the year once, in their town; again adds nothing', async () => {
    const first = await compareBaseWithRegistry(prisma, campaignId);
    expect(first).toEqual({ suspects: 7, added: 7, byTown: { [T1]: 4, [T2]: 3 } });
    const suspects = await prisma.suspectedChild.findMany({ where: { campaignId } });
    const byChild = Object.fromEntries(Object.entries(children).map(([k, id]) => [id, k]));
    expect(suspects.map((s) => `${byChild[s.childId]}@${s.regionCode}#${s.round}`).sort()).toEqual(
      [`k4@${T1}#1`, `k5@${T1}#1`, `k6@${T1}#1`, `m2@${T2}#1`, `m3@${T2}#1`, `m4@${T2}#1`, `o1@${T1}#1`].sort(),
    );
    expect(await compareBaseWithRegistry(prisma, campaignId)).toEqual({ ...first, added: 0 });
  });
});

describe('GET /api/reports/verification', () => {
  const outcome = (key: string, outcomeCode: string | null, registration?: 'REGISTERED', round = 1) =>
    prisma.suspectedChild.update({
      where: { campaignId_childId_round: { campaignId, childId: children[key]!, round } },
      data: { outcomeCode, registration, verifiedAt: outcomeCode ? new Date() : null },
    });
  const url = () => `/api/reports/verification?campaign=${campaignId}`;

  it('counts the first round per town by outcome code: 核减, 疑似失学, 未核实, 已建籍', async () => {
    await outcome('k4', 'I');
    await outcome('k5', 'E');
    await outcome('k6', 'B', 'REGISTERED');
    await outcome('o1', 'F');
    await outcome('m2', 'L');
    await outcome('m4', 'H');
    const res = await bureau<VerificationReport>('GET', url());
    expect(res.status).toBe(200);
    const labels = Object.fromEntries(res.body.codes.map((c) => [c.code, c.label]));
    const table = await prisma.verificationCode.findMany();
    expect(labels).toEqual(Object.fromEntries(table.map((c) => [c.code, c.label])));
    expect(res.body.rounds).toHaveLength(1);
    const [round] = res.body.rounds;
    const t1 = round!.towns.find((t) => t.townCode === T1)!;
    expect(t1).toMatchObject({ suspects: 4, removed: 3, stillSuspected: 1, pending: 0, carriedForward: 0 });
    expect(t1.outcomes).toMatchObject({ B: 1, E: 1, F: 1, I: 1, A: 0, L: 0 });
    expect(t1.registration).toEqual({ REGISTERED: 1, NOT_REGISTERED: 0, NOT_FOUND: 0 });
    const t2 = round!.towns.find((t) => t.townCode === T2)!;
    expect(t2).toMatchObject({ suspects: 3, removed: 1, stillSuspected: 1, pending: 1 });
    expect(t2.outcomes).toMatchObject({ H: 1, L: 1 });
    expect(round!.total).toMatchObject({ suspects: 7, removed: 4, stillSuspected: 2, pending: 1 });
    expect(round!.towns.filter((t) => t.townCode !== T1 && t.townCode !== T2).every((t) => t.suspects === 0)).toBe(
      true,
    );
  });

  it('carries the still suspected and the unverified into round 2, once', async () => {
    expect(await nextRound(prisma, campaignId)).toEqual({ round: 2, advanced: 3 });
    expect(await nextRound(prisma, campaignId, 1)).toEqual({ round: 2, advanced: 0 });
    await outcome('k4', 'I', undefined, 2);
    await outcome('m2', 'A', undefined, 2);
    const res = await bureau<VerificationReport>('GET', url());
    const [first, second] = res.body.rounds;
    // Round 1 keeps its own outcomes; the three not cleared in it are carried forward.
    expect(first!.total).toMatchObject({ suspects: 7, removed: 4, stillSuspected: 2, carriedForward: 3, pending: 1 });
    expect(first!.total.outcomes).toMatchObject({ B: 1, E: 1, F: 1, H: 1, I: 1, L: 1 });
    expect(second!.towns.find((t) => t.townCode === T1)).toMatchObject({ suspects: 1, stillSuspected: 1 });
    expect(second!.towns.find((t) => t.townCode === T2)).toMatchObject({ suspects: 2, removed: 1, pending: 1 });
    expect(second!.total).toMatchObject({ suspects: 3, removed: 1, stillSuspected: 1, pending: 1 });
    expect(second!.total.outcomes).toMatchObject({ A: 1, I: 1 });
  });

  it('shows a town only its own row', async () => {
    const res = await town<VerificationReport>('GET', url());
    expect(res.status).toBe(200);
    expect(res.body.region).toBe(T1);
    for (const round of res.body.rounds) expect(round.towns.map((t) => t.townCode)).toEqual([T1]);
    expect(res.body.rounds[0]!.total).toMatchObject({ suspects: 4, removed: 3, carriedForward: 1 });
    expect(JSON.stringify(res.body)).not.toContain(T2);
  });

  it('downloads the same numbers as CSV (UTF-8 with BOM) and XLSX, named in Chinese, audited', async () => {
    const token = await loginAs('bureau');
    const json = (await bureau<VerificationReport>('GET', url())).body;
    const before = await prisma.auditEvent.count({ where: { action: 'EXPORT', entityId: 'verification' } });

    const csv = await download(`${url()}&format=csv`, token);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const disposition = csv.headers.get('content-disposition')!;
    expect(disposition).toContain(`filename="verification-${COUNTY}-${YEAR}.csv"`);
    const name = decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(disposition)![1]!);
    expect(name).toBe(`适龄儿童入学核查情况统计表-${COUNTY}-${YEAR}.csv`);
    const rows = parseCsv(csv.bytes);
    expect(rows[0]).toContain('I类（因病因残）');
    expect(cell(rows, ['第1轮', T1], '疑似失学儿童数')).toBe('4');
    expect(cell(rows, ['第1轮', COUNTY, '合计'], '疑似失学儿童数')).toBe(String(json.rounds[0]!.total.suspects));
    expect(cell(rows, ['第1轮', COUNTY, '合计'], '核减人数')).toBe('4');
    expect(cell(rows, ['第1轮', COUNTY, '合计'], '转入下一轮')).toBe('3');
    expect(cell(rows, ['第2轮', T2], 'A类（户籍原因（重复、死亡、迁出））')).toBe('1');
    expect(cell(rows, ['第2轮', COUNTY, '合计'], '未核实')).toBe('1');

    const xlsx = await download(`${url()}&format=xlsx`, token);
    expect(xlsx.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const sheet = await parseXlsx(xlsx.bytes);
    expect(sheet[0]).toEqual(rows[0]);
    expect(sheet.slice(1).map((r) => r.map((v) => (v === null || v === undefined ? '' : String(v))))).toEqual(
      rows.slice(1),
    );
    expect(await prisma.auditEvent.count({ where: { action: 'EXPORT', entityId: 'verification' } })).toBe(before + 2);
  });

  it('refuses roles without the report, hides other counties and unknown campaigns, validates the query', async () => {
    const school = await as(SCHOOL_USER);
    expect((await school('GET', url())).status).toBe(403);
    expect((await bureau('GET', `/api/reports/verification?campaign=${otherCampaignId}`)).status).toBe(404);
    expect((await bureau('GET', '/api/reports/verification?campaign=999999')).status).toBe(404);
    expect((await bureau('GET', '/api/reports/verification?campaign=abc')).status).toBe(400);
    expect((await bureau('GET', `${url()}&format=pdf`)).status).toBe(400);
    expect((await api('GET', url())).status).toBe(401);
  });

  it('serves a published campaign’s frozen report, the live figures on request, and the difference', async () => {
    type Served = VerificationReport & {
      source: 'published' | 'live';
      publishedAt: string | null;
      differences: { round: number; townCode: string; field: string; published: number; live: number }[];
    };
    const frozen = await bureau<Served>('GET', url());
    expect(frozen.body).toMatchObject({ source: 'live', publishedAt: null, differences: [] });
    const { source: _s, publishedAt: _p, differences: _d, ...figures } = frozen.body;
    const reportedAt = new Date('2040-10-30T02:00:00Z');
    await prisma.campaign.update({
      where: { id: campaignId },
      data: { status: 'REPORTED', reportedAt, reportSnapshot: { ...figures, region: COUNTY } },
    });
    // A correction after publication: k5 (T1, round 1) was E (核减); it is unverified again.
    await outcome('k5', null);

    const published = await bureau<Served>('GET', url());
    expect(published.status).toBe(200);
    expect(published.body.source).toBe('published');
    expect(published.body.publishedAt).toBe(reportedAt.toISOString());
    expect(published.body.rounds).toEqual(figures.rounds);
    expect(published.body.differences).toEqual([
      { round: 1, townCode: T1, field: 'outcomes.E', published: 1, live: 0 },
      { round: 1, townCode: T1, field: 'pending', published: 0, live: 1 },
      { round: 1, townCode: T1, field: 'removed', published: 3, live: 2 },
      { round: 1, townCode: '合计', field: 'outcomes.E', published: 1, live: 0 },
      { round: 1, townCode: '合计', field: 'pending', published: 1, live: 2 },
      { round: 1, townCode: '合计', field: 'removed', published: 4, live: 3 },
    ]);
    const live = await bureau<Served>('GET', `${url()}&live=true`);
    expect(live.body.source).toBe('live');
    expect(live.body.publishedAt).toBe(reportedAt.toISOString());
    expect(live.body.rounds[0]!.total).toMatchObject({ removed: 3, pending: 2 });
    expect(live.body.differences).toEqual(published.body.differences);

    // A town sees its own rows of the published report, its total the town's.
    const mine = await town<Served>('GET', url());
    expect(mine.body.source).toBe('published');
    expect(mine.body.region).toBe(T1);
    for (const round of mine.body.rounds) expect(round.towns.map((t) => t.townCode)).toEqual([T1]);
    expect(mine.body.rounds[0]!.total).toMatchObject({ suspects: 4, removed: 3 });
    expect(JSON.stringify(mine.body)).not.toContain(T2);
    expect(mine.body.differences.map((d) => d.townCode)).toEqual([T1, T1, T1, '合计', '合计', '合计']);
    // The download is the published table too.
    const csv = await download(`${url()}&format=csv`, await loginAs('bureau'));
    const rows = parseCsv(csv.bytes);
    const removedAt = rows[0]!.indexOf('核减人数');
    expect(rows.find((r) => r[0] === '第1轮' && r[2] === '合计')![removedAt]).toBe('4');
  });
});

describe('GET /api/reports/dropouts', () => {
  const url = `/api/reports/dropouts?county=${COUNTY}&period=2041-03`;
  const schoolRow = (report: DropoutReport, key: keyof typeof schools) =>
    report.towns.flatMap((t) => t.schools).find((s) => s.schoolId === schools[key].id);

  it('as of the end of March: pupils on the roll, dropouts not back by then, returns in the period, by band and flag', async () => {
    const res = await bureau<DropoutReport>('GET', url);
    expect(res.status).toBe(200);
    expect(res.body.period).toEqual({
      label: '2041-03',
      schoolYear: 2040,
      start: '2040-10-31T16:00:00.000Z',
      end: '2041-03-31T16:00:00.000Z',
    });
    const s1 = schoolRow(res.body, 'S1')!;
    expect(s1.enrolled).toEqual({ primary: 6, middle: 0, total: 6 });
    expect(s1.dropouts).toEqual({ primary: 2, middle: 0, total: 2 });
    expect(s1.dropoutRate).toBe(33.33);
    expect(s1.returned.total).toBe(0);
    expect(s1.dropoutsByFlag).toMatchObject({ REGISTERED_POOR: 2, LEFT_BEHIND: 1, DISABLED: 0 });
    const s2 = schoolRow(res.body, 'S2')!;
    // c2 is in grade 9 at S2 too (c1 graduated: off the roll).
    expect(s2.enrolled).toEqual({ primary: 0, middle: 4, total: 4 });
    expect(s2.dropoutRate).toBe(50);
    expect(s2.dropouts).toEqual({ primary: 0, middle: 2, total: 2 });
    expect(s2.returned).toEqual({ primary: 0, middle: 1, total: 1 });
    expect(s2.dropoutsByFlag).toMatchObject({ DISABLED: 1, REGISTERED_POOR: 0 });
    const s3 = schoolRow(res.body, 'S3')!;
    expect(s3.enrolled).toEqual({ primary: 3, middle: 1, total: 4 });
    expect(s3.dropouts).toEqual({ primary: 1, middle: 0, total: 1 });
    expect(s3.dropoutRate).toBe(25);
    for (const t of res.body.towns) {
      expect(t.dropouts.total).toBe(t.schools.reduce((n, s) => n + s.dropouts.total, 0));
    }
    expect(res.body.total.enrolled.total).toBe(res.body.towns.reduce((n, t) => n + t.enrolled.total, 0));
  });

  it('shows a town its schools only, and a school itself only', async () => {
    const own = await town<DropoutReport>('GET', url);
    expect(own.body.towns.map((t) => t.townCode)).toEqual([T1]);
    expect(schoolRow(own.body, 'S1')!.dropouts.total).toBe(2);
    expect(schoolRow(own.body, 'S3')).toBeUndefined();
    const school = await as(SCHOOL_USER);
    const mine = await school<DropoutReport>('GET', url);
    expect(mine.status).toBe(200);
    expect(mine.body.towns.flatMap((t) => t.schools.map((s) => s.schoolId))).toEqual([schools.S1.id]);
    expect(mine.body.total).toMatchObject({ enrolled: { total: 6 }, dropouts: { total: 2 } });
  });

  it('downloads the table as CSV with the same numbers', async () => {
    const res = await download(`${url}&format=csv`, await loginAs('bureau'));
    expect(res.status).toBe(200);
    expect(decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(res.headers.get('content-disposition')!)![1]!)).toBe(
      `义务教育阶段学生辍学情况统计表-${COUNTY}-2041-03.csv`,
    );
    const rows = parseCsv(res.bytes);
    const s2 = rows.find((r) => r[2] === schools.S2.code)!;
    const at = (header: string) => s2[rows[0]!.indexOf(header)];
    expect(s2.slice(0, 2)).toEqual([T1, expect.any(String)]);
    expect(at('在籍学生数（合计）')).toBe('4');
    expect(at('辍学人数（初中）')).toBe('2');
    expect(at('辍学率（%）')).toBe('50');
    expect(at('复学人数（合计）')).toBe('1');
    expect(at('辍学人数·残疾')).toBe('1');
    expect(rows.at(-1)!.slice(0, 2)).toEqual([COUNTY, '合计']);
  });

  it('accepts only the statutory periods and the caller’s county', async () => {
    expect((await bureau('GET', `/api/reports/dropouts?county=${COUNTY}&period=2041-04`)).status).toBe(400);
    expect((await bureau('GET', '/api/reports/dropouts?county=370402&period=2041-03')).status).toBe(404);
    expect((await bureau('GET', '/api/reports/dropouts?county=37048&period=2041-03')).status).toBe(400);
  });
});

describe('GET /api/reports/retention', () => {
  const url = `/api/reports/retention?county=${COUNTY}&year=${YEAR}`;

  it('巩固率 per town and for the county, with transfers across town and county borders; 入学率 of compulsory age', async () => {
    const res = await bureau<RetentionReport>('GET', url);
    expect(res.status).toBe(200);
    expect(res.body.cohort).toEqual({ intakeSchoolYear: 2032, graduationSchoolYear: 2040 });
    const t1 = res.body.towns.find((t) => t.townCode === T1)!;
    expect(t1.retention).toEqual({
      graduates: 1,
      intake: 6,
      transfersIn: 0,
      transfersOut: 2,
      denominator: 4,
      rate: 25,
    });
    expect(t1.enrollment).toEqual({ enrolled: 3, base: 6, rate: 50 });
    const t2 = res.body.towns.find((t) => t.townCode === T2)!;
    expect(t2.retention).toEqual({
      graduates: 3,
      intake: 1,
      transfersIn: 2,
      transfersOut: 0,
      denominator: 3,
      rate: 100,
    });
    expect(t2.enrollment).toEqual({ enrolled: 1, base: 4, rate: 25 });
    expect(res.body.total.retention).toEqual({
      graduates: 4,
      intake: 7,
      transfersIn: 1,
      transfersOut: 1,
      denominator: 7,
      rate: 57.14,
    });
    expect(res.body.total.enrollment).toEqual({ enrolled: 4, base: 10, rate: 40 });
    const empty = res.body.towns.find((t) => t.townCode !== T1 && t.townCode !== T2)!;
    expect(empty.retention.rate).toBeNull();
    expect(empty.enrollment.rate).toBeNull();
  });

  it('counts the 16-year-old once the age range includes them', async () => {
    const res = await bureau<RetentionReport>('GET', `${url}&maxAge=16`);
    expect(res.body.total.enrollment).toEqual({ enrolled: 4, base: 11, rate: 36.36 });
    expect((await bureau('GET', `${url}&minAge=15&maxAge=14`)).status).toBe(400);
  });

  it('shows a town its own figures as its total', async () => {
    const res = await town<RetentionReport>('GET', url);
    expect(res.body.towns.map((t) => t.townCode)).toEqual([T1]);
    expect(res.body.total.retention).toMatchObject({ intake: 6, transfersOut: 2, graduates: 1, rate: 25 });
  });

  it('downloads XLSX with the numbers as numbers', async () => {
    const res = await download(`${url}&format=xlsx`, await loginAs('bureau'));
    expect(res.status).toBe(200);
    const rows = await parseXlsx(res.bytes);
    expect(cell(rows, [T2], '巩固率（%）')).toBe(100);
    expect(cell(rows, [T2], '转入人数')).toBe(2);
    expect(cell(rows, [COUNTY, '合计'], '巩固率（%）')).toBe(57.14);
    expect(cell(rows, [COUNTY, '合计'], '应毕业人数（入学+转入−转出）')).toBe(7);
    expect(cell(rows, [COUNTY, '合计'], '入学率（%）')).toBe(40);
    expect(
      await prisma.auditEvent.count({ where: { action: 'EXPORT', entity: 'report', entityId: 'retention' } }),
    ).toBeGreaterThanOrEqual(1);
  });
});
