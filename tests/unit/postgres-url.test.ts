import { describe, expect, it } from 'vitest';
import { toJdbc, withDatabase } from '../../infra/db/postgres.js';

describe('toJdbc', () => {
  it('converts a postgres URL with host, port and database into the JDBC form', () => {
    expect(toJdbc('postgres://app:secret@db.example:6543/kongchuo_engine')).toEqual({
      jdbcUrl: 'jdbc:postgresql://db.example:6543/kongchuo_engine',
      user: 'app',
      password: 'secret',
    });
  });

  it('defaults the port to 5432 and the user to postgres', () => {
    const jdbc = toJdbc('postgres://localhost/kongchuo');
    expect(jdbc.jdbcUrl).toBe('jdbc:postgresql://localhost:5432/kongchuo');
    expect(jdbc.user).toBe('postgres');
    expect(jdbc.password).toBe('');
  });

  it('decodes percent-encoded user and password', () => {
    const jdbc = toJdbc('postgres://ad%40min:p%40ss%2Fw%3Ard@h:5433/db');
    expect(jdbc.user).toBe('ad@min');
    expect(jdbc.password).toBe('p@ss/w:rd');
  });
});

describe('toJdbc options', () => {
  it('keeps connection options such as sslmode for the engine exporter', () => {
    expect(toJdbc('postgres://u:p@h:5432/db?sslmode=require').jdbcUrl).toBe(
      'jdbc:postgresql://h:5432/db?sslmode=require',
    );
  });
});

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
