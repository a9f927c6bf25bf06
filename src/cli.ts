import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from './config/load.js';
import { PrescaleError } from './errors.js';

/** Exit status for bad input (config, trace, arguments), as documented in the README. */
export const EXIT_BAD_INPUT = 2;

/** argv → commands; no logic beyond parsing and printing (STYLE.md layout). */
export async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('prescale')
    .description('Predictive autoscaling load balancer: balances, records, forecasts and scales ahead of spikes.')
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
    })
    .addHelpText('after', '\nExamples:\n  prescale demo\n  prescale demo --policy reactive\n  prescale validate examples/prescale.yaml\n  prescale serve --config examples/prescale.yaml');

  program
    .command('serve')
    .description('run the proxy, recorder, forecaster and scaler from a config file')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .action(async (opts: { config: string }) => {
      // the admin token may come from the environment so it need not be written in the file
      const config = await loadConfig(opts.config, { adminToken: process.env['PRESCALE_ADMIN_TOKEN'], webhookSecret: process.env['PRESCALE_WEBHOOK_SECRET'] });
      // loaded here, not at the top: the other commands start without the providers' SDKs
      const { startApp } = await import('./app.js');
      const app = await startApp(config).catch((err: unknown) => {
        throw listenProblem(err) ?? err;
      });
      const shutdown = () => {
        void app.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });

  program
    .command('validate')
    .description('check a config file without starting anything; exit 2 listing every problem')
    .argument('<file>', 'YAML config file')
    .action(async (file: string) => {
      await loadConfig(file);
      process.stdout.write(`${file}: ok\n`);
    });

  program
    .command('demo')
    .description('replay a real trace through prescale in front of local backends and show it scale ahead of the spike')
    .addOption(new Option('--policy <policy>', 'scaling policy').choices(['predictive', 'reactive']).default('predictive'))
    .option('--trace <file>', 'trace CSV (timestamp,requests) (default: the bundled NASA KSC July 1995 trace)')
    .option('--from <iso>', 'trace time of the first replayed interval', '1995-07-13T11:30:00Z')
    .option('--minutes <n>', 'trace intervals to replay', positiveNumber, 150)
    .option('--speed <x>', 'trace seconds per wall second', positiveNumber, 60)
    .option('--load-scale <x>', 'requests sent per trace request', positiveNumber, 1)
    .option('--provisioning <minutes>', 'provisioning delay of a new backend, trace minutes', positiveNumber, 5)
    .option('--log-dir <dir>', 'traffic log directory', 'data/demo/traffic')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nExamples:\n  prescale demo\n  prescale demo --policy reactive\n  prescale demo --from 1995-07-13T12:00:00Z --minutes 60 --speed 120 --load-scale 0.5')
    .action(async (opts: { policy: 'predictive' | 'reactive'; trace?: string; from: string; minutes: number; speed: number; loadScale: number; provisioning: number; logDir: string; json?: boolean }) => {
      const { DEFAULT_TRACE, formatSummary, runDemo } = await import('./demo/demo.js');
      const summary = await runDemo({
        policy: opts.policy,
        trace: opts.trace ?? DEFAULT_TRACE,
        from: opts.from,
        minutes: opts.minutes,
        speed: opts.speed,
        loadScale: opts.loadScale,
        provisioningMs: opts.provisioning * 60_000,
        logDir: opts.logDir,
        print: opts.json ? () => {} : (line) => process.stdout.write(`${line}\n`),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `\n${formatSummary(summary)}\n`);
    });

  program
    .command('backtest')
    .description('rolling-origin evaluation of the forecast models on a timestamp,requests CSV')
    .requiredOption('--trace <file>', 'trace CSV (timestamp,requests)')
    .option('--models <list>', 'models besides the three baselines', 'linear-regression-fourier,holt-winters')
    .option('--horizon <duration>', 'longest horizon; standard horizons (1, 5, 15, 30, 60 min) up to it are scored', '60m')
    .option('--step <duration>', 'time between forecast origins', '1h')
    .option('--test-days <n>', 'scored days at the end of the trace', positiveNumber, 7)
    .option('--plot <file>', 'write an SVG of the chosen model\'s forecast vs actual over the last day', '')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExamples:\n  prescale backtest --trace data/traces/nasa_ksc_jul1995_1min.csv\n  prescale backtest --trace data/traces/nab_aws_elb_requests_5min.csv --horizon 15m --json')
    .action(async (opts: { trace: string; models: string; horizon: string; step: string; testDays: number; plot: string; json?: boolean }) => {
      const { readTrace } = await import('./series/trace.js');
      const { runBacktest, formatBacktestTable } = await import('./forecast/backtest.js');
      const ms = (await import('ms')).default;
      const horizonMs = ms(opts.horizon as never) as unknown as number;
      const stepMs = ms(opts.step as never) as unknown as number;
      if (!Number.isFinite(horizonMs) || !Number.isFinite(stepMs)) throw new PrescaleError('PRESCALE_ERR_CONFIG', `--horizon and --step take durations like "15m" or "1h", got "${opts.horizon}" and "${opts.step}"`);
      const trace = await readTrace(opts.trace);
      const intervalMinutes = trace.intervalMs / 60_000;
      const horizons = [1, 5, 15, 30, 60].filter((h) => h * 60_000 <= horizonMs && h % intervalMinutes === 0);
      if (horizons.length === 0) horizons.push(Math.max(intervalMinutes, Math.floor(horizonMs / trace.intervalMs) * intervalMinutes));
      const { createProgressBar } = await import('./runtime/progress-bar.js');
      const bar = createProgressBar('backtest', !opts.json);
      const result = runBacktest(trace, {
        onProgress: bar.update,
        models: opts.models.split(',').map((m) => m.trim()).filter((m) => m.length > 0),
        horizonsMinutes: horizons,
        stepMinutes: Math.max(intervalMinutes, Math.round(stepMs / trace.intervalMs) * intervalMinutes),
        testDays: opts.testDays,
      });
      bar.stop();
      if (opts.plot !== '') {
        const { renderForecastSvg } = await import('./plot/forecast-plot.js');
        const { writeFile } = await import('node:fs/promises');
        const last = result.chosen[result.chosen.length - 1];
        const model = (last?.latest ?? 'seasonal-naive-daily') as Parameters<typeof renderForecastSvg>[1];
        const steps = Math.max(1, Math.round(((last?.horizonMinutes ?? intervalMinutes) * 60_000) / trace.intervalMs));
        await writeFile(opts.plot, await renderForecastSvg(trace, model, steps, Math.round(86_400_000 / trace.intervalMs)));
        if (!opts.json) process.stdout.write(`plot of ${model} written to ${opts.plot}\n`);
      }
      if (opts.json) {
        const { chosen, ...rest } = result;
        const main = chosen.find((c) => c.horizonMinutes === 15) ?? chosen[chosen.length - 1];
        process.stdout.write(`${JSON.stringify({ ...rest, trace: opts.trace, chosen: main?.latest ?? null, chosenByHorizon: chosen }, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatBacktestTable(result)}\n`);
      }
    });

  program
    .command('simulate')
    .description('run predictive, reactive (HPA-like) and oracle policies over a trace in simulated time')
    .requiredOption('--trace <file>', 'trace CSV (timestamp,requests)')
    .addOption(new Option('--policy <policy>', 'policy that drives the plot').choices(['predictive', 'reactive', 'oracle']).default('predictive'))
    .option('--lead <duration>', 'provisioning lead time', '5m')
    .option('--capacity-per-backend <rps>', 'rps one backend serves at 100% (default: median load needs 4 backends)', positiveNumber)
    .option('--days <n>', 'evaluated days at the end of the trace', positiveNumber, 7)
    .option('--quantile <q>', 'forecast quantile the predictive policy provisions for', positiveNumber, 0.9)
    .option('--plot <file>', 'write an SVG of demand, forecast upper bound and ready capacity for --policy', '')
    .option('--sweep', 'also run the predictive policy at quantiles 0.5, 0.75, 0.9, 0.95, 0.99 (the cost frontier)')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExamples:\n  prescale simulate --trace data/traces/nasa_ksc_jul1995_1min.csv\n  prescale simulate --trace data/traces/worldcup98_1min.csv --lead 10m --json')
    .action(async (opts: { trace: string; policy: 'predictive' | 'reactive' | 'oracle'; lead: string; capacityPerBackend?: number; days: number; quantile: number; plot: string; sweep?: boolean; json?: boolean }) => {
      const { readTrace } = await import('./series/trace.js');
      const { runSimulation, formatSimulation, sweepQuantiles } = await import('./sim/run-simulation.js');
      const { validateConfig } = await import('./config/load.js');
      const defaults = validateConfig({ scaler: { capacityPerBackendRps: 1, leadTimeMs: opts.lead }, upstream: { backends: [{ url: 'http://127.0.0.1:1' }] } });
      if (!defaults.ok) throw new PrescaleError('PRESCALE_ERR_CONFIG', `--lead: ${defaults.problems.map((p) => p.message).join('; ')}`);
      const s = defaults.config.scaler;
      if (s.leadTimeMs === 'auto') throw new PrescaleError('PRESCALE_ERR_CONFIG', '--lead: simulate needs a fixed lead time like "5m"');
      const leadTimeMs = s.leadTimeMs;
      const trace = await readTrace(opts.trace);
      const { createProgressBar } = await import('./runtime/progress-bar.js');
      const bar = createProgressBar('simulate', !opts.json);
      const simOptions = {
        onProgress: bar.update,
        leadTimeMs,
        ...(opts.capacityPerBackend === undefined ? {} : { capacityPerBackendRps: opts.capacityPerBackend }),
        targetUtilization: s.targetUtilization,
        minBackends: s.minBackends,
        maxBackends: 1000,
        scaleInStabilizationMs: s.scaleInStabilizationMs,
        scaleInCooldownMs: s.scaleInCooldownMs,
        scaleOutLimit: s.scaleOutLimit,
        days: opts.days,
        quantile: opts.quantile,
      };
      const report = runSimulation(trace, simOptions);
      if (opts.plot !== '') {
        const { renderSimulationSvg } = await import('./plot/simulation-plot.js');
        const { writeFile } = await import('node:fs/promises');
        const svg = await renderSimulationSvg({
          title: `${opts.policy} on ${trace.file.split('/').pop()}, lead ${report.leadMinutes} min`,
          startMs: Date.parse(report.evaluated.from),
          intervalMs: trace.intervalMs,
          capacityPerBackendRps: report.capacityPerBackendRps,
          steps: report.steps[opts.policy],
        });
        await writeFile(opts.plot, svg);
        if (!opts.json) process.stdout.write(`plot written to ${opts.plot}\n`);
      }
      const sweep = opts.sweep ? sweepQuantiles(trace, simOptions, [0.5, 0.75, 0.9, 0.95, 0.99]) : undefined;
      bar.stop();
      if (opts.json) {
        const { steps: _steps, ...rest } = report;
        process.stdout.write(`${JSON.stringify({ ...rest, ...(sweep ? { sweep } : {}) }, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatSimulation(report)}\n`);
        if (sweep) {
          process.stdout.write('\nquantile  under-provisioned min (x reactive)  backend-hours (x reactive)\n');
          for (const r of sweep) process.stdout.write(`${r.quantile.toFixed(2).padStart(8)}  ${String(r.underProvisionedMinutes).padStart(10)} (${r.underVsReactive.toFixed(2)}x)  ${r.backendHours.toFixed(1).padStart(14)} (${r.hoursVsReactive.toFixed(2)}x)\n`);
        }
      }
    });

  program
    .command('train')
    .description('backtest one forecast model on logged traffic or a trace and save it as models/<id> with its meta.json')
    .requiredOption('--from <path>', 'traffic log directory (data/traffic) or trace CSV (timestamp,requests)')
    .requiredOption('--model <name>', 'forecast model, e.g. holt-winters, linear-regression-fourier, seasonal-naive-daily')
    .requiredOption('--out <dir>', 'model directory to create: models/<id>')
    .option('--interval <duration>', "interval to train at, a multiple of the data's (default: the data's own)")
    .option('--horizon <duration>', 'horizon the model is scored at (use the lead time + one interval)', '15m')
    .option('--test-days <n>', 'scored days at the end of the data', positiveNumber, 1)
    .option('--days <n>', 'use only the last n days of data', positiveNumber)
    .option('--set-current', 'make it the current model (the current one becomes previous)')
    .option('--json', 'print the meta.json written')
    .addHelpText('after', '\nExamples:\n  prescale train --from data/traces/nasa_ksc_jul1995_1min.csv --model holt-winters --out models/nasa-hw\n  prescale train --from data/traffic --interval 1m --model linear-regression-fourier --out models/lrf-1 --set-current')
    .action(async (opts: { from: string; model: string; out: string; interval?: string; horizon: string; testDays: number; days?: number; setCurrent?: boolean; json?: boolean }) => {
      const { duration } = await import('./config/duration.js');
      const { trainModel, formatTrainSummary } = await import('./forecast/train.js');
      const toMs = (flag: string, text: string): number => {
        const parsed = duration.safeParse(text);
        if (!parsed.success || parsed.data <= 0) throw new PrescaleError('PRESCALE_ERR_CONFIG', `${flag} takes a duration like "1m" or "15m", got "${text}"`);
        return parsed.data;
      };
      const { createProgressBar } = await import('./runtime/progress-bar.js');
      const bar = createProgressBar('train', !opts.json);
      bar.update(0, 3, 'starting');
      try {
        const result = await trainModel({
          from: opts.from, model: opts.model, out: opts.out, horizonMs: toMs('--horizon', opts.horizon), testDays: opts.testDays,
          ...(opts.interval === undefined ? {} : { intervalMs: toMs('--interval', opts.interval) }),
          ...(opts.days === undefined ? {} : { days: opts.days }),
          ...(opts.setCurrent ? { setCurrent: true } : {}),
          onProgress: (stage, index, total) => bar.update(index, total, stage),
        });
        bar.stop();
        process.stdout.write(opts.json ? `${JSON.stringify(result.meta, null, 2)}\n` : `${formatTrainSummary(result)}\n${opts.setCurrent ? `current model: ${result.meta.id}\n` : ''}`);
      } finally {
        bar.stop();
      }
    });

  program
    .command('import')
    .description('seed the traffic log from a trace CSV or a Prometheus range query (per-second rates)')
    .option('--trace <file>', 'trace CSV (timestamp,requests): one bucket per row')
    .option('--prometheus <url>', 'Prometheus base URL, e.g. http://localhost:9090')
    .option('--query <promql>', 'with --prometheus: requests per second, e.g. "sum(rate(http_requests_total[1m]))"')
    .option('--start <iso>', 'with --prometheus: first interval start, e.g. 2025-03-01T00:00:00Z')
    .option('--end <iso>', 'with --prometheus: end of the range (exclusive)')
    .option('--step <duration>', 'with --prometheus: interval of the imported buckets (requests = rate × step)', '60s')
    .option('--to <dir>', 'traffic log directory', 'data/traffic')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nExamples:\n  prescale import --trace data/traces/nasa_ksc_jul1995_1min.csv --to data/traffic\n  prescale import --prometheus http://localhost:9090 --query "sum(rate(http_requests_total[1m]))" --start 2025-03-01T00:00:00Z --end 2025-03-29T00:00:00Z --step 60s --to data/traffic')
    .action(async (opts: { trace?: string; prometheus?: string; query?: string; start?: string; end?: string; step: string; to: string; json?: boolean }) => {
      const store = await import('./forecast/store/index.js');
      const bad = (message: string): never => {
        throw new PrescaleError('PRESCALE_ERR_CONFIG', message);
      };
      if ((opts.trace === undefined) === (opts.prometheus === undefined)) bad('import needs exactly one of --trace FILE or --prometheus URL');
      const { createProgressBar } = await import('./runtime/progress-bar.js');
      const bar = createProgressBar('import', !opts.json);
      let summary;
      if (opts.trace !== undefined) {
        summary = await store.importTrace({ file: opts.trace, logDir: opts.to, onProgress: bar.update });
      } else {
        if (opts.query === undefined || opts.start === undefined || opts.end === undefined) bad('--prometheus needs --query, --start and --end');
        const { duration } = await import('./config/duration.js');
        const step = duration.safeParse(opts.step);
        if (!step.success || step.data < 1000) bad(`--step takes a duration of at least 1s like "60s", got "${opts.step}"`);
        summary = await store.importPrometheus({
          url: opts.prometheus as string, query: opts.query as string, logDir: opts.to, stepMs: step.data as number,
          fromMs: store.parseInstant('--start', opts.start as string), toMs: store.parseInstant('--end', opts.end as string),
          onProgress: bar.update,
        });
      }
      bar.stop();
      process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${store.formatImportSummary(summary)}\n`);
    });

  program
    .command('rollback')
    .description('make the previous stored model current again (swaps models/current and models/previous) after checking it loads; exit 2 and no change if not')
    .option('--models-dir <dir>', 'models directory', 'models')
    .option('--interval <duration>', 'also check the model was trained at this interval: series.intervalMs of the config it will serve')
    .action(async (opts: { modelsDir: string; interval?: string }) => {
      const { rollback } = await import('./forecast/store/rollback.js');
      let intervalSeconds: number | undefined;
      if (opts.interval !== undefined) {
        const { duration } = await import('./config/duration.js');
        const parsed = duration.safeParse(opts.interval);
        if (!parsed.success || parsed.data <= 0) throw new PrescaleError('PRESCALE_ERR_CONFIG', `--interval takes a duration like "1m", got "${opts.interval}"`);
        intervalSeconds = parsed.data / 1000;
      }
      const result = await rollback(opts.modelsDir, intervalSeconds === undefined ? {} : { intervalSeconds });
      process.stdout.write(`current model: ${result.current}${result.previous === undefined ? '' : ` (was ${result.previous}, now previous)`}\n`);
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof PrescaleError) {
      process.stderr.write(`prescale: ${err.code}: ${err.message}\n`);
      process.exit(EXIT_BAD_INPUT);
    }
    throw err;
  }
}

/**
 * A listen error of `serve` (port taken, address not on this host, no permission) as a
 * PRESCALE_ERR_CONFIG naming the address, so it exits 2 with one line instead of a stack trace;
 * undefined for any other error.
 */
function listenProblem(err: unknown): PrescaleError | undefined {
  const e = err as (NodeJS.ErrnoException & { address?: string; port?: number }) | undefined;
  if (e?.syscall !== 'listen') return undefined;
  const reasons: Record<string, string> = { EADDRINUSE: 'the port is already in use', EADDRNOTAVAIL: 'the address is not on this host', EACCES: 'permission denied' };
  const where = `${e.address ?? '?'}${e.port === undefined ? '' : `:${e.port}`}`;
  return new PrescaleError('PRESCALE_ERR_CONFIG', `cannot listen on ${where}: ${reasons[e.code ?? ''] ?? e.code ?? e.message}; change listen or admin host/port in the config`, { cause: err });
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}
