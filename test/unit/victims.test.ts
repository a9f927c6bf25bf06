import { describe, expect, it } from 'vitest';
import type { Instance } from '../../src/scaler/provider.js';
import { pickVictims } from '../../src/scaler/victims.js';

const instance = (id: string, state: Instance['state']): Instance => ({ id, state, url: `http://127.0.0.1:1/${id}`, requestedAtMs: 0 });

describe('pickVictims (scale-in order)', () => {
  const fleet = [instance('a', 'running'), instance('b', 'running'), instance('c', 'provisioning'), instance('d', 'running'), instance('e', 'provisioning')];
  const inFlight: Record<string, number> = { a: 5, b: 0, d: 0 };
  const load = (id: string) => inFlight[id] ?? 0;

  it.each([
    [1, ['e']],
    [2, ['e', 'c']],
    [3, ['e', 'c', 'd']],
    [4, ['e', 'c', 'd', 'b']],
    [5, ['e', 'c', 'd', 'b', 'a']],
    [9, ['e', 'c', 'd', 'b', 'a']],
    [0, []],
  ])('removing %i takes %j (booting newest first, then least in flight, ties newest first)', (count, ids) => {
    expect(pickVictims(fleet, count, load).map((i) => i.id)).toEqual(ids);
  });

  it('prefers an idle old backend over a busy new one, and does not mutate its input', () => {
    const copy = [...fleet];
    expect(pickVictims(fleet, 3, (id) => (id === 'd' ? 9 : id === 'a' ? 0 : 3)).map((i) => i.id)).toEqual(['e', 'c', 'a']);
    expect(fleet).toEqual(copy);
  });
});
