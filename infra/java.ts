/**
 * Finds a JDK the engine can run on. Camunda's distribution needs Java 21 or newer; the default
 * `java` on our machines is 17, so JAVA_HOME is checked first and then every JDK under /usr/lib/jvm.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const MIN_JAVA_MAJOR = 21;
const JVM_DIR = '/usr/lib/jvm';

export interface Jdk {
  home: string;
  major: number;
}

export class JavaNotFoundError extends Error {
  constructor(tried: string[]) {
    super(
      `No JDK ${MIN_JAVA_MAJOR}+ found (tried: ${tried.join(', ') || 'nothing'}). ` +
        `Install one, e.g. "apt-get install openjdk-21-jdk-headless" or Temurin 21/25, ` +
        `then set JAVA_HOME to it.`,
    );
  }
}

/** Parses the major version from `java -version` output ("17.0.15", "1.8.0_392", "25"). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] ? Number(m[2]) : first;
}

/** Runs `<home>/bin/java -version` (it prints to stderr) and reads the major version. */
function probe(home: string): Jdk | undefined {
  const bin = path.join(home, 'bin', 'java');
  if (!fs.existsSync(bin)) return undefined;
  const res = spawnSync(bin, ['-version'], { encoding: 'utf8' });
  const major = parseJavaMajor(`${res.stderr ?? ''}${res.stdout ?? ''}`);
  return major ? { home, major } : undefined;
}

/**
 * Returns the JDK to use: JAVA_HOME when it is 21+, else the newest 21+ under /usr/lib/jvm.
 * Throws JavaNotFoundError with the install hint otherwise.
 */
export function findJdk(javaHome: string | undefined, jvmDir = JVM_DIR): Jdk {
  const tried: string[] = [];
  if (javaHome) {
    tried.push(`JAVA_HOME=${javaHome}`);
    const jdk = probe(javaHome);
    if (jdk && jdk.major >= MIN_JAVA_MAJOR) return jdk;
  }
  const candidates = fs.existsSync(jvmDir)
    ? fs
        .readdirSync(jvmDir)
        .map((d) => path.join(jvmDir, d))
        .filter((d) => {
          // lstat: a dangling link left by an uninstalled JDK must not abort the search.
          const st = fs.lstatSync(d);
          return st.isDirectory() && !st.isSymbolicLink();
        })
    : [];
  const found = candidates
    .map((home) => {
      tried.push(home);
      return probe(home);
    })
    .filter((j): j is Jdk => j !== undefined && j.major >= MIN_JAVA_MAJOR)
    .sort((a, b) => b.major - a.major);
  if (found[0]) return found[0];
  throw new JavaNotFoundError(tried);
}
