import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DistributionError,
  archivePath,
  distributionHome,
  ensureDistribution,
  isCompleteDistribution,
} from '../../infra/camunda/distribution.js';

const VERSION = '8.6.0';

describe('ensureDistribution', () => {
  let tmp: string;
  let cacheDir: string;
  let messages: string[];
  const log = (m: string) => messages.push(m);

  /** A tiny tar.gz laid out like the real one: camunda-zeebe-<v>/{bin/broker,config/application.yaml,lib/a.jar}. */
  function writeFakeArchive(): void {
    const src = path.join(tmp, 'src');
    const top = path.join(src, `camunda-zeebe-${VERSION}`);
    for (const [file, content] of [
      ['bin/broker', '#!/bin/sh\n'],
      ['config/application.yaml', 'zeebe: {}\n'],
      ['lib/a.jar', 'jar'],
    ] as const) {
      fs.mkdirSync(path.dirname(path.join(top, file)), { recursive: true });
      fs.writeFileSync(path.join(top, file), content);
    }
    const archive = archivePath(cacheDir, VERSION);
    fs.mkdirSync(path.dirname(archive), { recursive: true });
    execFileSync('tar', ['-czf', archive, '-C', src, `camunda-zeebe-${VERSION}`]);
  }

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-dist-'));
    cacheDir = path.join(tmp, 'cache');
    messages = [];
  });

  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('unpacks the cached archive into a complete distribution', async () => {
    writeFakeArchive();
    const home = distributionHome(cacheDir, VERSION);
    expect(isCompleteDistribution(home)).toBe(false);

    const dist = await ensureDistribution(cacheDir, VERSION, log);

    expect(dist).toEqual({ version: VERSION, home, libDir: path.join(home, 'lib') });
    expect(fs.existsSync(path.join(home, 'bin', 'broker'))).toBe(true);
    expect(fs.existsSync(path.join(home, 'lib', 'a.jar'))).toBe(true);
    expect(isCompleteDistribution(home)).toBe(true);
    expect(fs.existsSync(`${home}.partial`)).toBe(false);
    expect(messages.some((m) => m.includes('Unpacking'))).toBe(true);
  });

  it('detects a half-unpacked tree without the marker and unpacks it again', async () => {
    writeFakeArchive();
    const home = distributionHome(cacheDir, VERSION);
    fs.mkdirSync(path.join(home, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(home, 'bin', 'broker'), 'half');
    expect(isCompleteDistribution(home)).toBe(false);

    await ensureDistribution(cacheDir, VERSION, log);

    expect(messages.some((m) => m.includes('incomplete'))).toBe(true);
    expect(isCompleteDistribution(home)).toBe(true);
    expect(fs.readFileSync(path.join(home, 'bin', 'broker'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it('does no work on a second call once the distribution is complete', async () => {
    writeFakeArchive();
    await ensureDistribution(cacheDir, VERSION, log);
    messages = [];
    fs.rmSync(archivePath(cacheDir, VERSION));

    const dist = await ensureDistribution(cacheDir, VERSION, log);

    expect(messages).toEqual([]);
    expect(dist.home).toBe(distributionHome(cacheDir, VERSION));
  });

  it('deletes a corrupt archive and says Maven is missing when it cannot fetch a new one', async () => {
    const archive = archivePath(cacheDir, VERSION);
    fs.mkdirSync(path.dirname(archive), { recursive: true });
    fs.writeFileSync(archive, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    // A PATH with tar and gzip (so the unpack really runs) but no mvn.
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    for (const tool of ['tar', 'gzip']) {
      fs.symlinkSync(
        execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(),
        path.join(bin, tool),
      );
    }
    const savedPath = process.env.PATH;
    process.env.PATH = bin;
    let error: unknown;
    try {
      await ensureDistribution(cacheDir, VERSION, log);
    } catch (err) {
      error = err;
    } finally {
      process.env.PATH = savedPath;
    }

    expect(error).toBeInstanceOf(DistributionError);
    expect((error as Error).message).toMatch(/Maven \("mvn"\) is not installed/);
    expect((error as Error).message).toContain(archive);
    expect(fs.existsSync(archive)).toBe(false);
    expect(messages.some((m) => m.includes('corrupt'))).toBe(true);
    expect(isCompleteDistribution(distributionHome(cacheDir, VERSION))).toBe(false);
  });
});

describe('isCompleteDistribution', () => {
  it('is false for a missing directory and for a tree whose lib has no jar', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-dist-'));
    try {
      expect(isCompleteDistribution(path.join(tmp, 'nope'))).toBe(false);
      for (const dir of ['bin', 'config', 'lib']) fs.mkdirSync(path.join(tmp, dir));
      fs.writeFileSync(path.join(tmp, 'bin', 'broker'), '');
      fs.writeFileSync(path.join(tmp, 'config', 'application.yaml'), '');
      fs.writeFileSync(path.join(tmp, '.kongchuo-complete'), '');
      expect(isCompleteDistribution(tmp)).toBe(false);
      fs.writeFileSync(path.join(tmp, 'lib', 'x.jar'), '');
      expect(isCompleteDistribution(tmp)).toBe(true);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
