/**
 * What idle keep-alive client connections cost: a fresh contender, warmed up, then `count`
 * connections that each made one request and stay open (idle-conns-main.ts); resident memory of
 * the contender's process tree before and after, each after `settleMs` of quiet (so a garbage
 * collector has run), reported per 10,000 connections.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startChild, type Cores } from './children.js';
import { startContender, type ContenderSpec, type StartContext } from './contenders.js';
import { sleep } from './net-util.js';
import { runWrk } from './wrk.js';

export interface IdleResult {
  label: string;
  connections: number;
  /** Connections still open when memory was measured (a server may close idle ones). */
  openAtMeasure: number;
  openMs: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  mbPer10k: number;
}

/** Measure one contender; `ctx.backends` should be the cheap responders. */
export async function measureIdle(spec: ContenderSpec, ctx: StartContext, count: number, clientCores: Cores, settleMs: number, log: (line: string) => void): Promise<IdleResult> {
  const c = await startContender(spec, ctx);
  try {
    const stats = c.stats;
    if (stats === null) throw new Error('idle connections need a proxy');
    await runWrk({ url: `http://127.0.0.1:${c.port}/`, durationS: 3, connections: 64, cores: clientCores });
    // idle long enough for V8's memory reducer to collect the warm-up's garbage
    await sleep(settleMs);
    const before = await steadyRss(() => stats.rssMb());
    const client = startChild('idle-client', process.execPath, ['--import', 'tsx', join(ctx.root, 'bench/proxy/idle-conns-main.ts'), String(c.port), String(count)], { cores: clientCores, pipe: true, nofile: count + 1_000, cwd: ctx.root });
    const lines = createInterface({ input: client.proc.stdout as NodeJS.ReadableStream });
    const next = () => Promise.race([
      new Promise<string>((resolve) => lines.once('line', resolve)),
      client.exited.then((code) => {
        throw new Error(`idle client exited (${code}) before reporting`);
      }),
    ]);
    const ready = JSON.parse(await next()) as { ready: number; ms: number };
    await sleep(settleMs);
    stats.refresh();
    let after = 0;
    for (let i = 0; i < 5; i++) {
      after = Math.max(after, stats.rssMb());
      await sleep(100);
    }
    client.proc.stdin?.write('report\n');
    const { open } = JSON.parse(await next()) as { open: number };
    client.proc.stdin?.end();
    await client.stop();
    const result: IdleResult = {
      label: spec.label,
      connections: count,
      openAtMeasure: open,
      openMs: ready.ms,
      rssBeforeMb: before,
      rssAfterMb: after,
      mbPer10k: open > 0 ? ((after - before) * 10_000) / open : Number.NaN,
    };
    log(`  idle ${spec.label.padEnd(28)} ${before.toFixed(1)} MB → ${after.toFixed(1)} MB with ${open}/${count} open (opened in ${ready.ms} ms): ${result.mbPer10k.toFixed(1)} MB per 10k`);
    return result;
  } finally {
    await c.stop();
  }
}

/** Median of three samples 100 ms apart. */
async function steadyRss(read: () => number): Promise<number> {
  const v: number[] = [];
  for (let i = 0; i < 3; i++) {
    v.push(read());
    await sleep(100);
  }
  return v.sort((a, b) => a - b)[1] as number;
}
