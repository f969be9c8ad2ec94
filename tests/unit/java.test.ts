import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JavaNotFoundError, MIN_JAVA_MAJOR, findJdk, parseJavaMajor } from '../../infra/java.js';

describe('parseJavaMajor', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "25.0.3" 2026-04-21 LTS', 25],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_392"', 8],
  ])('reads %s as major %i', (output, major) => {
    expect(parseJavaMajor(output)).toBe(major);
  });

  it.each(['', 'bash: java: command not found', 'version 17'])('returns undefined for %j', (output) => {
    expect(parseJavaMajor(output)).toBeUndefined();
  });
});

describe('findJdk', () => {
  let tmp: string;
  let jvmDir: string;

  /** A fake JDK home whose bin/java prints the given version line to stderr, like the real one. */
  function fakeJdk(parent: string, name: string, version: string): string {
    const home = path.join(parent, name);
    fs.mkdirSync(path.join(home, 'bin'), { recursive: true });
    const script = `#!/bin/sh\necho 'openjdk version "${version}" 2025-01-01' >&2\n`;
    fs.writeFileSync(path.join(home, 'bin', 'java'), script, { mode: 0o755 });
    return home;
  }

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-java-'));
    jvmDir = path.join(tmp, 'jvm');
    fs.mkdirSync(jvmDir);
  });

  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('picks the newest JDK 21+ in the jvm dir and ignores older ones', () => {
    fakeJdk(jvmDir, 'jdk-17', '17.0.2');
    const jdk21 = fakeJdk(jvmDir, 'jdk-21', '21.0.4');
    expect(findJdk(undefined, jvmDir)).toEqual({ home: jdk21, major: 21 });
  });

  it('skips a dangling link left by an uninstalled JDK and still finds a good one', () => {
    fs.symlinkSync(path.join(tmp, 'removed-jdk'), path.join(jvmDir, 'default-java'));
    const jdk21 = fakeJdk(jvmDir, 'jdk-21', '21.0.4');
    expect(findJdk(undefined, jvmDir)).toEqual({ home: jdk21, major: 21 });
  });

  it('uses JAVA_HOME when it is 21+', () => {
    const jdk25 = fakeJdk(tmp, 'custom-25', '25.0.1');
    fakeJdk(jvmDir, 'jdk-21', '21.0.4');
    expect(findJdk(jdk25, jvmDir)).toEqual({ home: jdk25, major: 25 });
  });

  it('prefers JAVA_HOME over a newer JDK in the jvm dir', () => {
    const jdk21 = fakeJdk(tmp, 'custom-21', '21.0.4');
    fakeJdk(jvmDir, 'jdk-25', '25.0.1');
    expect(findJdk(jdk21, jvmDir)).toEqual({ home: jdk21, major: 21 });
  });

  it('falls back to the jvm dir when JAVA_HOME is too old', () => {
    const jdk17 = fakeJdk(tmp, 'custom-17', '17.0.2');
    const jdk21 = fakeJdk(jvmDir, 'jdk-21', '21.0.4');
    expect(findJdk(jdk17, jvmDir)).toEqual({ home: jdk21, major: 21 });
  });

  it('throws JavaNotFoundError naming what was tried and what to install when only 17s exist', () => {
    const javaHome = fakeJdk(tmp, 'custom-17', '17.0.2');
    const inDir = fakeJdk(jvmDir, 'jdk-17', '17.0.15');
    let error: unknown;
    try {
      findJdk(javaHome, jvmDir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(JavaNotFoundError);
    const message = (error as Error).message;
    expect(message).toContain('openjdk-21');
    expect(message).toContain('JAVA_HOME');
    expect(message).toContain(`JAVA_HOME=${javaHome}`);
    expect(message).toContain(inDir);
  });

  it('throws JavaNotFoundError when the jvm dir does not exist and JAVA_HOME is unset', () => {
    expect(() => findJdk(undefined, path.join(tmp, 'missing'))).toThrow(JavaNotFoundError);
  });

  it('finds a JDK 21+ on this machine', () => {
    expect(findJdk(undefined).major).toBeGreaterThanOrEqual(MIN_JAVA_MAJOR);
  });
});
