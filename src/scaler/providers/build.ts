import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { CapacityProvider } from '../provider.js';
import { AwsAutoScalingProvider } from './aws.js';
import { ExecProvider } from './exec.js';
import { GcpManagedInstanceGroupProvider } from './gcp.js';
import { KubernetesProvider } from './kubernetes.js';
import { LocalProcessProvider } from './local-process.js';
import { withBounds, withRetries } from './retrying.js';
import { WebhookProvider } from './webhook.js';

/**
 * Build the provider named in `provider.kind` (null for static backends). Remote providers are
 * wrapped in retries with full-jitter backoff and in the scaler's [minBackends, maxBackends]
 * bounds, so a flaky API or a bug upstream can never push the fleet outside them.
 */
export function buildProvider(config: Readonly<Config>, logger: Logger): CapacityProvider | null {
  const p = config.provider;
  const remote = (provider: CapacityProvider, retry: { attempts: number; baseDelayMs: number; maxDelayMs: number }) =>
    withBounds(
      withRetries(provider, { ...retry, onRetry: (err, attempt, delayMs) => logger.warn({ err, attempt, delayMs, provider: provider.name }, 'provider call failed; retrying') }),
      config.scaler.minBackends,
      config.scaler.maxBackends,
      logger,
    );
  switch (p.kind) {
    case 'static':
      return null;
    case 'local-process':
      return new LocalProcessProvider({ backend: p.backend, bootDelayMs: p.bootDelayMs, logger });
    case 'exec':
      return remote(new ExecProvider({ command: p.command, args: p.args, timeoutMs: p.timeoutMs, env: p.env }), p.retry);
    case 'webhook':
      return remote(new WebhookProvider({ url: p.url, secret: p.secret, timeoutMs: p.timeoutMs }), p.retry);
    case 'aws':
      return remote(
        new AwsAutoScalingProvider({
          groupName: p.groupName,
          region: p.region,
          port: p.port,
          scheme: p.scheme,
          addressType: p.addressType,
          ...(p.endpoint === undefined ? {} : { endpoint: p.endpoint }),
          logger,
        }),
        p.retry,
      );
    case 'kubernetes':
      return remote(
        new KubernetesProvider({
          namespace: p.namespace,
          kind: p.target.kind,
          name: p.target.name,
          port: p.port,
          requestTimeoutMs: p.requestTimeoutMs,
          ...(p.kubeconfig === undefined ? {} : { kubeconfig: p.kubeconfig }),
          ...(p.server === undefined ? {} : { server: p.server }),
          logger,
        }),
        p.retry,
      );
    case 'gcp':
      return remote(
        new GcpManagedInstanceGroupProvider({
          project: p.project,
          zone: p.zone,
          group: p.group,
          port: p.port,
          scheme: p.scheme,
          timeoutMs: p.timeoutMs,
          ...(p.apiEndpoint === undefined ? {} : { apiEndpoint: p.apiEndpoint }),
          logger,
        }),
        p.retry,
      );
  }
}
