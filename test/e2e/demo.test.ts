import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../src/demo/demo.js';

const run = promisify(execFile);
const bin = new URL('../../bin/prescale.js', import.meta.url).pathname;

/** A shortened `prescale demo`: the ramp before the STS-70 launch (NASA, 13 Jul 1995), at 2 trace minutes per second. */
async function demo(policy: 'predictive' | 'reactive'): Promise<DemoSummary> {
  const logDir = join(await mkdtemp(join(tmpdir(), 'prescale-demo-')), 'traffic');
  const { stdout } = await run(process.execPath, [
    bin, 'demo', '--policy', policy, '--from', '1995-07-13T11:50:00Z', '--minutes', '50', '--speed', '120', '--load-scale', '0.5', '--log-dir', logDir, '--json',
  ], { timeout: 120_000 });
  return JSON.parse(stdout) as DemoSummary;
}

describe('demo on the NASA trace, end to end through real processes and sockets', () => {
  it('predictive capacity rises before the load does, and ahead of reactive', { timeout: 240_000 }, async () => {
    const predictive = await demo('predictive');
    const reactive = await demo('reactive');
    expect(predictive.requestsSent).toBeGreaterThan(2000);
    expect(predictive.rises.length).toBeGreaterThan(0);
    // every rise was met, and on the median the capacity was ready before the load arrived
    for (const rise of predictive.rises) expect(rise.leadMinutes).not.toBeNull();
    expect(predictive.medianLeadMinutes).toBeGreaterThan(0);
    expect(predictive.medianLeadMinutes!).toBeGreaterThan(reactive.medianLeadMinutes ?? Number.NEGATIVE_INFINITY);
    // the same trace with a reactive policy leaves more rises uncovered and more minutes under-provisioned
    expect(predictive.risesMetInTime).toBeGreaterThan(reactive.risesMetInTime);
    expect(predictive.minutesAboveTarget).toBeLessThan(reactive.minutesAboveTarget);
    expect(predictive.errorRate).toBeLessThan(0.01);
  });
});
