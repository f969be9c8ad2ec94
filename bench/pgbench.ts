/**
 * The reference for section 1: what the bench's own PostgreSQL (the embedded server the engine runs on)
 * commits on this machine — pgbench's TPC-B-like transaction (5 statements, one commit) on a scratch
 * database of the same server, run while the rest of the system is idle.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import { round, spread, type Spread } from './stats.js';
import { cpuShare, sampleProcesses, type SystemUnderTest } from './system.js';

const run = promisify(execFile);
const DB = 'bench_pgbench';

export interface PgbenchOptions {
  scale: number;
  clients: number;
  seconds: number;
  runs: number;
}

export interface PgbenchResult {
  version: string;
  scale: number;
  clients: number;
  threads: number;
  seconds: number;
  /** Transactions per second (pgbench's figure without the initial connection time). */
  tps: Spread;
  latencyMsAvg: number[];
  /** Share of one core used by PostgreSQL and by pgbench itself during the runs. */
  cpu: { postgres: number; pgbench: number };
  /** 1-minute load average at the end (2 cores). */
  load1: number;
}

export async function pgbenchReference(
  sut: SystemUnderTest,
  opts: PgbenchOptions,
  say: (l: string) => void,
): Promise<PgbenchResult> {
  const env = { ...process.env, PGPASSWORD: sut.pg.password };
  const conn = ['-h', sut.pg.host, '-p', String(sut.pg.port), '-U', sut.pg.user];
  const admin = new pg.Client({ connectionString: sut.serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
    await admin.query(`CREATE DATABASE ${DB}`);
  } finally {
    await admin.end();
  }
  const { stdout: version } = await run('pgbench', ['--version'], { env });
  say(`  pgbench: initialising scale ${opts.scale}…`);
  await run('pgbench', [...conn, '-i', '-q', '-s', String(opts.scale), DB], { env, maxBuffer: 16 << 20 });
  const threads = Math.min(opts.clients, 2);
  const tps: number[] = [];
  const lat: number[] = [];
  const before = sampleProcesses(sut);
  const t0 = performance.now();
  let childCpu = 0;
  for (let i = 0; i < opts.runs; i++) {
    const { stdout } = await run(
      'bash',
      [
        '-c',
        // `time` of the child (pgbench's own CPU) on stderr, pgbench's report on stdout.
        `TIMEFORMAT='%U %S'; time pgbench "$@"`,
        'pgbench',
        ...conn,
        '-c',
        String(opts.clients),
        '-j',
        String(threads),
        '-T',
        String(opts.seconds),
        DB,
      ],
      { env, maxBuffer: 16 << 20 },
    ).then(({ stdout, stderr }) => {
      const t = stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
      childCpu += (t[0] ?? 0) + (t[1] ?? 0);
      return { stdout };
    });
    const m = stdout.match(/tps = ([\d.]+) \(without initial connection time\)/);
    const l = stdout.match(/latency average = ([\d.]+) ms/);
    if (!m) throw new Error(`pgbench printed no tps:\n${stdout}`);
    tps.push(round(Number(m[1]), 0));
    if (l) lat.push(Number(l[1]));
    say(`    pgbench run ${i + 1}: ${m[1]} tps, latency ${l?.[1] ?? '?'} ms (${opts.clients} clients)`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuShare(before, sampleProcesses(sut), seconds);
  const admin2 = new pg.Client({ connectionString: sut.serverUrl });
  await admin2.connect();
  try {
    await admin2.query(`DROP DATABASE IF EXISTS ${DB}`);
  } finally {
    await admin2.end();
  }
  return {
    version: version.trim(),
    scale: opts.scale,
    clients: opts.clients,
    threads,
    seconds: opts.seconds,
    tps: spread(tps),
    latencyMsAvg: lat,
    cpu: { postgres: round(cpu.postgres), pgbench: round(childCpu / seconds) },
    load1: round(os.loadavg()[0]!, 2),
  };
}
