import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { CapacityProvider } from '../provider.js';
import { withBounds, withRetries } from './retrying.js';

/**
 * Build the provider named in `provider.kind` (null for static backends). Remote providers are
 * wrapped in retries with full-jitter backoff and in the scaler's [minBackends, maxBackends]
 * bounds, so a flaky API or a bug upstream can never push the fleet outside them.
 * Each provider's module (and its cloud SDK: AWS, GCP, Kubernetes, each 90-145 MB of heap) is
 * imported only when configured, so a static or local setup never loads them.
 */
export async function buildProvider(config: Readonly<Config>, logger: Logger): Promise<CapacityProvider | null> {
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
      return new (await import('./local-process.js')).LocalProcessProvider({ backend: p.backend, bootDelayMs: p.bootDelayMs, logger });
    case 'exec':
      return remote(new (await import('./exec.js')).ExecProvider({ command: p.command, args: p.args, timeoutMs: p.timeoutMs, env: p.env }), p.retry);
    case 'webhook':
      return remote(new (await import('./webhook.js')).WebhookProvider({ url: p.url, secret: p.secret, timeoutMs: p.timeoutMs }), p.retry);
    case 'aws':
      return remote(
        new (await import('./aws.js')).AwsAutoScalingProvider({
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
        new (await import('./kubernetes.js')).KubernetesProvider({
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
        new (await import('./gcp.js')).GcpManagedInstanceGroupProvider({
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
