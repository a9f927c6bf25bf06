import cliProgress from 'cli-progress';

/** A progress reporter: `(done, total, stage?)`, called as work advances. */
export type ProgressCallback = (done: number, total: number, stage?: string) => void;

export interface ProgressBar {
  /** Pass as the work's `onProgress`; draws nothing when the bar is off. */
  readonly update: ProgressCallback;
  /** Erase the bar (idempotent); call before printing results. */
  stop(): void;
}

/**
 * A terminal progress bar (cli-progress) on stderr for a long CLI command: drawn only when stderr
 * is a TTY and `enabled` (false for `--json`, so machine output stays clean). Redraws happen
 * inside `update` as well as on cli-progress's timer, so synchronous work (backtest, simulate)
 * still shows progress. `label` names the work: "backtest", "simulate", "import".
 */
export function createProgressBar(label: string, enabled = true): ProgressBar {
  if (!enabled || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total} {stage} | {duration_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      synchronousUpdate: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update(done, total, stage = '') {
      if (stopped) return;
      if (!started) {
        bar.start(total, done, { stage });
        started = true;
        return;
      }
      bar.setTotal(total);
      bar.update(done, { stage });
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
