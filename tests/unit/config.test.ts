import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, engineAddresses, loadConfig } from '../../infra/config.js';

function configErrorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig did not throw');
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const cfg = loadConfig({});
    expect(cfg.API_PORT).toBe(3000);
    expect(cfg.PG_PORT).toBe(5433);
    expect(cfg.ENGINE_REST_PORT).toBe(8080);
    expect(cfg.KC_MODE).toBe('local');
    expect(cfg.BIND_HOST).toBe('127.0.0.1');
    expect(cfg.ENGINE_CLOCK_CONTROLLED).toBe(false);
    expect(cfg.ENGINE_START_TIMEOUT_S).toBe(30);
    expect(path.isAbsolute(cfg.dataDir)).toBe(true);
    expect(path.isAbsolute(cfg.cacheDir)).toBe(true);
    expect(cfg.logDir).toBe(path.join(cfg.dataDir, 'logs'));
  });

  it('treats empty strings as unset and falls back to the defaults', () => {
    const cfg = loadConfig({ API_PORT: '', ENGINE_START_TIMEOUT_S: '', KC_MODE: '', DATABASE_URL: '' });
    expect(cfg.API_PORT).toBe(3000);
    expect(cfg.ENGINE_START_TIMEOUT_S).toBe(30);
    expect(cfg.KC_MODE).toBe('local');
    expect(cfg.DATABASE_URL).toBeUndefined();
  });

  it('coerces ports and flags from strings and resolves a relative data dir to an absolute one', () => {
    const cfg = loadConfig({ API_PORT: '4100', ENGINE_CLOCK_CONTROLLED: '1', KC_DATA_DIR: 'rel/data' });
    expect(cfg.API_PORT).toBe(4100);
    expect(cfg.ENGINE_CLOCK_CONTROLLED).toBe(true);
    expect(cfg.dataDir).toBe(path.resolve('rel/data'));
    expect(cfg.logDir).toBe(path.join(path.resolve('rel/data'), 'logs'));
  });

  it.each(['70000', '0', 'abc', '80.5'])('rejects API_PORT=%s with a ConfigError naming the key', (value) => {
    expect(configErrorOf({ API_PORT: value }).message).toContain('API_PORT');
  });

  it.each(['0', '-3', 'soon'])('rejects ENGINE_START_TIMEOUT_S=%s with a ConfigError naming the key', (value) => {
    expect(configErrorOf({ ENGINE_START_TIMEOUT_S: value }).message).toContain('ENGINE_START_TIMEOUT_S');
  });

  it('names every bad key in one error', () => {
    const message = configErrorOf({ PG_PORT: '-1', LOG_LEVEL: 'loud' }).message;
    expect(message).toContain('PG_PORT');
    expect(message).toContain('LOG_LEVEL');
  });

  it('refuses a controlled engine clock in production mode', () => {
    expect(configErrorOf({ KC_MODE: 'production', ENGINE_CLOCK_CONTROLLED: 'true' }).message).toContain(
      'ENGINE_CLOCK_CONTROLLED',
    );
    const engineUser = { ENGINE_USERNAME: 'kongchuo', ENGINE_PASSWORD: 'from-a-secret' };
    expect(loadConfig({ KC_MODE: 'production', ...engineUser }).KC_MODE).toBe('production');
  });

  it('refuses production mode against an engine without credentials, and half a credential anywhere', () => {
    expect(configErrorOf({ KC_MODE: 'production' }).message).toContain('ENGINE_PASSWORD');
    expect(configErrorOf({ ENGINE_USERNAME: 'kongchuo' }).message).toContain('together');
    expect(loadConfig({ ENGINE_USERNAME: 'kongchuo', ENGINE_PASSWORD: 'x' }).ENGINE_USERNAME).toBe('kongchuo');
  });

  it('takes the CORS origins as a list of URLs and refuses anything else', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).CORS_ORIGINS).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
    expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
    expect(configErrorOf({ CORS_ORIGINS: 'not a url' }).message).toContain('CORS_ORIGINS');
  });
});

describe('engineAddresses', () => {
  it('builds REST, gRPC and management addresses from the configured host and ports', () => {
    const cfg = loadConfig({ BIND_HOST: '10.0.0.5', ENGINE_REST_PORT: '18080', ENGINE_GRPC_PORT: '36500' });
    expect(engineAddresses(cfg)).toEqual({
      rest: 'http://10.0.0.5:18080',
      grpc: '10.0.0.5:36500',
      management: 'http://10.0.0.5:9600',
    });
  });

  it('connects to loopback when the engine binds every interface', () => {
    const addr = engineAddresses(loadConfig({ BIND_HOST: '0.0.0.0' }));
    expect(addr.rest).toBe('http://127.0.0.1:8080');
    expect(addr.grpc).toBe('127.0.0.1:26500');
  });

  it('brackets IPv6 hosts and maps the IPv6 wildcard to loopback', () => {
    expect(engineAddresses(loadConfig({ BIND_HOST: '::1' })).rest).toBe('http://[::1]:8080');
    expect(engineAddresses(loadConfig({ BIND_HOST: '::' })).grpc).toBe('[::1]:26500');
  });

  it('uses the addresses of an engine started elsewhere when they are set (infra/serve.ts)', () => {
    const cfg = loadConfig({
      BIND_HOST: '0.0.0.0',
      ENGINE_GRPC_ADDRESS: 'kongchuo-engine:26500',
      ENGINE_REST_ADDRESS: 'http://kongchuo-engine:8080/',
      ENGINE_MANAGEMENT_ADDRESS: 'http://kongchuo-engine:9600',
    });
    expect(engineAddresses(cfg)).toEqual({
      rest: 'http://kongchuo-engine:8080',
      grpc: 'kongchuo-engine:26500',
      management: 'http://kongchuo-engine:9600',
    });
    expect(configErrorOf({ ENGINE_GRPC_ADDRESS: 'grpc://gateway:26500' }).message).toContain('ENGINE_GRPC_ADDRESS');
    expect(configErrorOf({ ENGINE_REST_ADDRESS: 'gateway:8080' }).message).toContain('ENGINE_REST_ADDRESS');
  });
});
