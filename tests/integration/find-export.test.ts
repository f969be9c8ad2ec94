/**
 * Engine-backed: finding and exporting. Children by 身份证号 (whole or its last digits) and cases by the
 * child's name or the case number, within the caller's jurisdiction and audited; the whole filtered
 * list of children, cases and tasks as XLSX and CSV (beyond the list's 500-row page, masked as in the
 * list, audited); inbox rows naming the child and the town, also for a verification task; the bureau's
 * overdue count over the county.
 */
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPrisma } from '../../infra/db/prisma.js';
import { formatCaseNumber } from '../../workers/open-dropout-case/handler.js';
import { fixtureCounty, listedChildren } from './fixture-county.js';
import {
  api,
  as,
  type Caller,
  completeTask,
  demoPeople,
  eventually,
  loginAs,
  openTasksOf,
  pupilWithoutCase,
} from './helpers.js';

const prisma = createPrisma(inject('appDatabaseUrl'));
afterAll(() => prisma.$disconnect());

type List<T> = { data: T[]; total: number };
type Child = { id: string; name: string; idNumber: string };
type Case = { id: string; caseNumber: string; childName: string; reasonLabel: string | null };
type TaskRow = {
  userTaskKey: string;
  elementId: string;
  childName: string | null;
  caseNumber: string | null;
  townName: string | null;
  townCode: string | null;
};

/** A download as the API sends it: status, headers and the raw bytes. */
async function download(token: string, path: string) {
  const res = await fetch(`${inject('apiUrl')}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** CSV lines without the byte-order mark (none of our fields holds a line break). */
function csvLines(bytes: Buffer): string[] {
  const text = bytes.toString('utf8');
  expect(text.startsWith('\uFEFF')).toBe(true);
  return text.slice(1).split('\r\n').filter(Boolean);
}

/** The records of a CSV export, parsed as CSV (a quoted address may hold a comma or a line break). */
function csvRows(bytes: Buffer): string[][] {
  const text = bytes.toString('utf8');
  expect(text.startsWith('\uFEFF')).toBe(true);
  return parse(text.slice(1), { relax_column_count: false }) as string[][];
}

async function xlsxRows(bytes: Buffer): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  const rows: string[][] = [];
  workbook.worksheets[0]!.eachRow((row) =>
    rows.push((row.values as unknown[]).slice(1).map((v) => (v === null || v === undefined ? '' : String(v)))),
  );
  return rows;
}

/** The newest audit row's id: the rows a step writes come after it. */
async function lastAuditId(): Promise<bigint> {
  const last = await prisma.auditEvent.findFirst({ orderBy: { id: 'desc' }, select: { id: true } });
  return last?.id ?? 0n;
}

const MASKED_ID = /^\d{6}\*{10}[\dX]{2}$/;

describe('find and export (engine-backed)', () => {
  let people: Awaited<ReturnType<typeof demoPeople>>;
  let town: Caller;
  let townToken: string;
  let bureauToken: string;
  let reported: { caseId: string; caseNumber: string; child: { id: string; name: string }; pik: string };

  beforeAll(async () => {
    people = await demoPeople(prisma);
    town = await as(people.town.username);
    townToken = await loginAs(people.town.username);
    bureauToken = await loginAs('bureau');
    // A dropout case in the teacher's town to search for and export.
    const teacher = await as(people.teacher.username);
    const pupil = await pupilWithoutCase(prisma, people.teacher.classId);
    const res = await teacher<{ processInstanceKey: string }>('POST', '/api/dropout-reports', {
      child: pupil.id,
      lastAttendance: '2026-11-16',
      reason: '连续旷课，查找导出测试',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const pik = res.body.processInstanceKey;
    // The case is opened by the flow's first worker.
    const c = await eventually(
      async () => (await prisma.dropoutCase.findUnique({ where: { processInstanceKey: pik } })) ?? undefined,
      'the case',
    );
    reported = {
      caseId: c.id,
      caseNumber: formatCaseNumber(c.serial, c.openedAt),
      child: pupil,
      pik,
    };
  });

  it('finds a child by the whole 身份证号 or its last digits, in the caller’s jurisdiction only, and audits each find', async () => {
    const pupil = await prisma.child.findUniqueOrThrow({ where: { id: people.pupil.id } });
    const since = await lastAuditId();
    const whole = await town<List<Child>>('GET', `/api/children?idNumber=${pupil.idNumber}`);
    expect(whole.status).toBe(200);
    expect(whole.body.data.map((c) => c.id)).toEqual([pupil.id]);
    expect(whole.body.data[0]!.idNumber).toMatch(MASKED_ID);
    const tail = pupil.idNumber.slice(-6).toLowerCase();
    const bySuffix = await town<List<Child>>('GET', `/api/children?idNumber=${tail}`);
    expect(bySuffix.status).toBe(200);
    expect(bySuffix.body.data.map((c) => c.id)).toContain(pupil.id);
    // Every child found has that tail (checked against the database: the answer is masked).
    const found = await prisma.child.findMany({ where: { id: { in: bySuffix.body.data.map((c) => c.id) } } });
    expect(found.every((c) => c.idNumber.endsWith(tail.toUpperCase()))).toBe(true);
    for (const c of bySuffix.body.data) expect(c.idNumber).toMatch(MASKED_ID);
    const audited = await prisma.auditEvent.findMany({
      where: { username: people.town.username, action: 'READ_PERSONAL', entity: 'Child', id: { gt: since } },
    });
    expect(audited.filter((a) => a.entityId === pupil.id).map((a) => (a.details as { lookup: string }).lookup)).toEqual(
      expect.arrayContaining(['idNumber', 'idNumberSuffix']),
    );
    // The audit row never holds the number searched for.
    expect(JSON.stringify(audited.map((a) => a.details))).not.toContain(pupil.idNumber);

    // Another town's child: not found by its whole number nor by its tail.
    const other = people.otherTownPupil;
    expect((await town<List<Child>>('GET', `/api/children?idNumber=${other.idNumber}`)).body.total).toBe(0);
    const otherTail = await town<List<Child>>('GET', `/api/children?idNumber=${other.idNumber.slice(-8)}`);
    expect(otherTail.status).toBe(200);
    expect(otherTail.body.data.map((c) => c.id)).not.toContain(other.id);
    // A teacher finds her own pupil, not another class's.
    const teacher = await as(people.teacher.username);
    const otherPupil = await prisma.child.findUniqueOrThrow({ where: { id: people.otherPupil.id } });
    expect((await teacher<List<Child>>('GET', `/api/children?idNumber=${otherPupil.idNumber}`)).body.total).toBe(0);
  });

  it('refuses a tail too short to mean anything, in Chinese', async () => {
    const res = await town<{ error: { code: string; details: { message: string }[] } }>(
      'GET',
      '/api/children?idNumber=123',
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error.details)).toContain('至少后4位');
    expect((await town('GET', '/api/children?idNumber=12a4')).status).toBe(400);
  });

  it('finds a case by the child’s name, by its case number or its serial, and not another town’s', async () => {
    const byName = await town<List<Case>>('GET', `/api/cases?q=${encodeURIComponent(reported.child.name)}`);
    expect(byName.body.data.map((c) => c.id)).toContain(reported.caseId);
    const byNumber = await town<List<Case>>('GET', `/api/cases?q=${encodeURIComponent(reported.caseNumber)}`);
    expect(byNumber.body.data.map((c) => c.id)).toEqual([reported.caseId]);
    const serial = String(Number(reported.caseNumber.split('-')[2]));
    const bySerial = await town<List<Case>>('GET', `/api/cases?q=${serial}`);
    expect(bySerial.body.data.map((c) => c.id)).toContain(reported.caseId);
    const otherTown = await as(people.otherTown.username);
    const notTheirs = await otherTown<List<Case>>('GET', `/api/cases?q=${encodeURIComponent(reported.caseNumber)}`);
    expect(notTheirs.status).toBe(200);
    expect(notTheirs.body.total).toBe(0);
  });

  it('exports the whole filtered children list as CSV and XLSX, beyond one page, masked and audited', async () => {
    const list = await api<List<Child>>('GET', '/api/children?perPage=1', undefined, { token: bureauToken });
    expect(list.body.total).toBeGreaterThan(500);
    const since = await lastAuditId();
    const csv = await download(bureauToken, '/api/exports/children?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(decodeURIComponent(csv.headers.get('content-disposition')!)).toContain('学生名单');
    const records = csvRows(csv.bytes);
    expect(records[0]!.join(',')).toBe(
      '姓名,身份证号,性别,出生年月,学籍号,户籍镇街,学校,班级,户籍地址,居住地址,重点关注,监护人',
    );
    expect(records.length - 1).toBe(list.body.total);
    const unmasked = records.slice(1).filter((r) => !MASKED_ID.test(r[1]!));
    expect(
      unmasked.map((r) => r[1]),
      'ID numbers not masked',
    ).toEqual([]);
    // No full birth date anywhere: 出生年月 only.
    expect(records.slice(1).every((r) => /^\d{4}年\d{1,2}月$/.test(r[3]!))).toBe(true);

    const xlsx = await download(bureauToken, '/api/exports/children?format=xlsx&sort=name&order=DESC');
    expect(xlsx.status).toBe(200);
    const rows = await xlsxRows(xlsx.bytes);
    expect(rows[0]![0]).toBe('姓名');
    expect(rows.length - 1).toBe(list.body.total);
    const audit = await prisma.auditEvent.findMany({
      where: { username: 'bureau', action: 'EXPORT', entity: 'Child', id: { gt: since } },
      orderBy: { id: 'asc' },
    });
    expect(audit.map((a) => (a.details as { format: string; rows: number }).format)).toEqual(['csv', 'xlsx']);
    expect(audit.every((a) => (a.details as { rows: number }).rows === list.body.total)).toBe(true);
  });

  it('exports only the caller’s jurisdiction: a town’s export holds its children and not another town’s', async () => {
    const own = await town<List<Child>>('GET', '/api/children?perPage=1');
    const csv = await download(townToken, '/api/exports/children?format=csv');
    expect(csvLines(csv.bytes).length - 1).toBe(own.body.total);
    const other = people.otherTownPupil;
    const since = await lastAuditId();
    const narrowed = await download(townToken, `/api/exports/children?format=csv&idNumber=${other.idNumber}`);
    expect(narrowed.status).toBe(200);
    expect(csvLines(narrowed.bytes)).toHaveLength(1); // the header alone
    const exported = await prisma.auditEvent.findFirstOrThrow({
      where: { username: people.town.username, action: 'EXPORT', id: { gt: since } },
      orderBy: { id: 'desc' },
    });
    expect(JSON.stringify(exported.details)).not.toContain(other.idNumber);
    expect((exported.details as { rows: number }).rows).toBe(0);
  });

  it('exports the cases with the town and the reason’s meaning, and refuses a bad format', async () => {
    const csv = await download(townToken, `/api/exports/cases?format=csv&q=${encodeURIComponent(reported.caseNumber)}`);
    expect(csv.status).toBe(200);
    const lines = csvLines(csv.bytes);
    expect(lines[0]!.split(',').slice(0, 6)).toEqual(['案号', '儿童', '身份证号', '学校', '镇街', '阶段']);
    expect(lines).toHaveLength(2);
    const cells = lines[1]!.split(',');
    expect(cells[0]).toBe(reported.caseNumber);
    expect(cells[1]).toBe(reported.child.name);
    expect(cells[2]).toMatch(MASKED_ID);
    const townName = (await prisma.region.findUniqueOrThrow({ where: { code: people.town.regionCode } })).name;
    expect(cells[4]).toBe(townName);
    expect(cells[5]).toBe('班主任劝返中');
    expect(cells[10]).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日$/);
    const otherTown = await loginAs(people.otherTown.username);
    const theirs = await download(
      otherTown,
      `/api/exports/cases?format=csv&q=${encodeURIComponent(reported.caseNumber)}`,
    );
    expect(csvLines(theirs.bytes)).toHaveLength(1);
    const bad = await api<{ error: { code: string } }>('GET', '/api/exports/cases?format=pdf', undefined, {
      token: townToken,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('names the child and the town on every inbox row, and exports the inbox', async () => {
    const teacher = await as(people.teacher.username);
    const [visit] = await openTasksOf<TaskRow>(teacher, reported.pik, 'visitFamily');
    expect(visit!.childName).toBe(reported.child.name);
    expect(visit!.caseNumber).toBe(reported.caseNumber);
    const townName = (await prisma.region.findUniqueOrThrow({ where: { code: people.town.regionCode } })).name;
    expect(visit!.townName).toBe(townName);
    const teacherToken = await loginAs(people.teacher.username);
    const csv = await download(teacherToken, '/api/exports/tasks?format=csv&type=visitFamily');
    expect(csv.status).toBe(200);
    const lines = csvLines(csv.bytes);
    expect(lines[0]).toBe('任务,儿童,案号,镇街,流程,办理期限,已逾期,办理人,下达日期');
    expect(lines.find((l) => l.includes(reported.caseNumber))).toContain(
      `${reported.child.name},${reported.caseNumber},${townName},辍学劝返`,
    );
    // The inbox's supervisor view is the bureau's: a teacher's export of it is refused like the list.
    expect((await download(teacherToken, '/api/exports/tasks?view=all')).status).toBe(403);
  });

  it('names the child and the town of a verification task, which has no case', async () => {
    const YEAR = 2027;
    const fx = await fixtureCounty(prisma, '379941', YEAR, 0);
    const listedIds = await listedChildren(prisma, fx, YEAR, 2);
    const listed = await prisma.child.findMany({ where: { id: { in: listedIds } } });
    const bureau = await as(fx.users.bureau);
    const fxTown = await as(fx.users.town);
    const started = await bureau('POST', '/api/campaigns/enrollment', { county: fx.county, year: YEAR });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const dispatch = await eventually(async () => {
      const res = await bureau<List<TaskRow>>('GET', '/api/tasks?type=dispatchSuspectList');
      return res.body.data[0];
    }, 'the dispatch task');
    await completeTask(bureau, dispatch, {});
    const rows = await eventually(
      async () => {
        const res = await fxTown<List<TaskRow>>('GET', '/api/tasks?type=verifyChild&perPage=100');
        return res.body.data.length >= 2 ? res.body.data : undefined;
      },
      '2 × verifyChild',
      30_000,
    );
    expect(rows.map((r) => r.childName).sort()).toEqual(listed.map((c) => c.name).sort());
    expect(rows.every((r) => r.townName === `测试镇${fx.county}` && r.caseNumber === null)).toBe(true);
    // The task page names the town, not its code.
    const context = await fxTown<{ subject: { detail: string } }>('GET', `/api/tasks/${rows[0]!.userTaskKey}/context`);
    expect(context.body.subject.detail).toContain(`测试镇${fx.county}`);
    expect(context.body.subject.detail).not.toMatch(/\d{9}/);
    // The bureau's view of the county, filtered to the town, shows the same rows with their names.
    const county = await bureau<List<TaskRow>>('GET', `/api/tasks?view=all&type=verifyChild&town=${fx.town}`);
    expect(county.body.data.map((r) => r.childName).sort()).toEqual(listed.map((c) => c.name).sort());
  });
});
