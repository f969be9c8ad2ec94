import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reachableByPostgres, withDatabase } from '../../infra/db/postgres.js';

describe('withDatabase', () => {
  it('swaps the database name and keeps credentials, host and port', () => {
    expect(withDatabase('postgres://u:p%40ss@h:5433/kongchuo', 'kongchuo_engine')).toBe(
      'postgres://u:p%40ss@h:5433/kongchuo_engine',
    );
  });

  it('adds a database to a URL that has none', () => {
    expect(withDatabase('postgres://u:p@h:5433', 'postgres')).toBe('postgres://u:p@h:5433/postgres');
  });
});

describe('reachableByPostgres', () => {
  it('is false below a directory closed to other users, true below an open one', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-reach-'));
    fs.chmodSync(root, 0o755); // mkdtemp makes it 700
    try {
      const closed = path.join(root, 'closed');
      const open = path.join(root, 'open');
      fs.mkdirSync(closed, { mode: 0o700 });
      fs.mkdirSync(open, { mode: 0o755 });
      fs.chmodSync(closed, 0o700);
      fs.chmodSync(open, 0o755);
      const someoneElse = process.getuid!() + 1;
      expect(reachableByPostgres(path.join(closed, 'data', 'pg'), someoneElse)).toBe(false);
      expect(reachableByPostgres(path.join(open, 'data', 'pg'), someoneElse)).toBe(true);
      // The owner of a closed directory may still pass it.
      expect(reachableByPostgres(path.join(closed, 'data', 'pg'), process.getuid!())).toBe(true);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
