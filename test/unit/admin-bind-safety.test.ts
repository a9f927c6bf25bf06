import { describe, expect, it } from 'vitest';
import { assertAdminBindSafe, isLoopbackHost } from '../../src/admin/bind-safety.js';
import { PrescaleError } from '../../src/errors.js';

describe('assertAdminBindSafe', () => {
  it.each([
    ['127.0.0.1', undefined, 'ok'],
    ['127.255.10.3', undefined, 'ok'],
    ['localhost', undefined, 'ok'],
    ['LOCALHOST', undefined, 'ok'],
    ['::1', undefined, 'ok'],
    ['[::1]', undefined, 'ok'],
    ['0:0:0:0:0:0:0:1', undefined, 'ok'],
    ['::ffff:127.0.0.1', undefined, 'ok'],
    ['0.0.0.0', undefined, 'throws'],
    ['::', undefined, 'throws'],
    ['', undefined, 'throws'],
    ['128.0.0.1', undefined, 'throws'],
    ['10.0.0.5', undefined, 'throws'],
    ['::2', undefined, 'throws'],
    ['::ffff:10.0.0.1', undefined, 'throws'],
    ['localhost.example.com', undefined, 'throws'],
    ['admin.internal', undefined, 'throws'],
    ['0.0.0.0', '', 'throws'],
    ['0.0.0.0', 'a-long-secret-token', 'ok'],
    ['10.0.0.5', 'a-long-secret-token', 'ok'],
    ['127.0.0.1', 'a-long-secret-token', 'ok'],
  ] as const)('host %j with token %j: %s', (host, token, expected) => {
    if (expected === 'ok') {
      expect(() => assertAdminBindSafe(host, token)).not.toThrow();
      return;
    }
    let error: unknown;
    try {
      assertAdminBindSafe(host, token);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PrescaleError);
    expect((error as PrescaleError).code).toBe('PRESCALE_ERR_CONFIG');
    expect((error as PrescaleError).message).toContain('admin.token');
  });

  it('treats only loopback addresses and "localhost" as loopback', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('example.com')).toBe(false);
  });
});
