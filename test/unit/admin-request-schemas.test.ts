import { describe, expect, it } from 'vitest';
import { addBody, deleteQuery, heartbeatBody, weightBody, weightFromPercent } from '../../src/admin/request-schemas.js';

describe('weightFromPercent (HAProxy set weight <n>%)', () => {
  it.each([
    [2, 50, 1],
    [3, 50, 1],
    [1, 50, 0],
    [4, 100, 4],
    [4, 0, 0],
    [10, 250, 25],
    [0, 300, 0],
    [500, 1000, 1000],
  ])('initial %i at %i%% gives %i', (initial, percent, expected) => {
    expect(weightFromPercent(initial, percent)).toBe(expected);
  });
});

describe('admin request bodies', () => {
  it.each([
    [{ weight: 0 }, true],
    [{ weight: 1000 }, true],
    [{ percent: 150 }, true],
    [{ weight: 1001 }, false],
    [{ percent: -1 }, false],
    [{ weight: 1, percent: 1 }, false],
    [{}, false],
    [{ weight: '5' }, false],
  ])('weight body %j valid: %s', (body, ok) => {
    expect(weightBody.safeParse(body).success).toBe(ok);
  });

  it('add body defaults the weight to 1 and checks id and url', () => {
    expect(addBody.parse({ url: 'http://127.0.0.1:8081' })).toEqual({ url: 'http://127.0.0.1:8081', weight: 1 });
    expect(addBody.safeParse({ url: 'http://127.0.0.1:8081', id: '-bad' }).success).toBe(false);
    expect(addBody.safeParse({ url: 'ftp://127.0.0.1' }).success).toBe(false);
  });

  it('heartbeat body needs a url and a TTL of at least 100 ms', () => {
    expect(heartbeatBody.safeParse({ url: 'http://h:1', ttlMs: 10_000 }).success).toBe(true);
    expect(heartbeatBody.safeParse({ url: 'http://h:1', ttlMs: 50 }).success).toBe(false);
    expect(heartbeatBody.safeParse({ ttlMs: 10_000 }).success).toBe(false);
  });

  it('delete query parses drainTimeoutMs and wait from strings and refuses unknown keys', () => {
    expect(deleteQuery.parse({ drainTimeoutMs: '2500', wait: 'true' })).toEqual({ drainTimeoutMs: 2500, wait: true });
    expect(deleteQuery.parse({})).toEqual({ wait: false });
    expect(deleteQuery.safeParse({ drainTimeout: '5' }).success).toBe(false);
    expect(deleteQuery.safeParse({ wait: 'yes' }).success).toBe(false);
  });
});
