/**
 * Where the kubernetes provider finds its API server and credentials.
 */
import { KubeConfig, type Cluster } from '@kubernetes/client-node';
import { PrescaleError } from '../../errors.js';

export interface KubeConfigSource {
  /** A KubeConfig built in code (embedding, tests); wins over `kubeconfig`. */
  readonly kubeConfig?: KubeConfig;
  /** A kubeconfig file; its current-context is used. */
  readonly kubeconfig?: string;
  /**
   * Replaces the current cluster's server URL: https://…, or plain http:// to a loopback address
   * only (`kubectl proxy` on http://127.0.0.1:8001, a test server), so a token never crosses a
   * network in clear.
   */
  readonly server?: string;
}

/**
 * The KubeConfig to talk to, from (first that applies): `kubeConfig`, the `kubeconfig` file, or
 * client-node's default chain (the KUBECONFIG files, ~/.kube/config, the in-cluster service
 * account, http://localhost:8080). Then `server`, if given, replaces the current cluster's URL
 * and keeps its user and TLS settings; for a loopback http:// URL it also sets skipTLSVerify,
 * which client-node 1.x requires before it sends anything over plain HTTP.
 * @throws PrescaleError PRESCALE_ERR_CONFIG when the file cannot be read or parsed, `server` is
 *   not an http(s) URL, or no current cluster results.
 */
export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  let kc: KubeConfig;
  try {
    kc = source.kubeConfig ?? new KubeConfig();
    if (source.kubeConfig === undefined) {
      if (source.kubeconfig !== undefined) kc.loadFromFile(source.kubeconfig);
      else kc.loadFromDefault();
    }
  } catch (error) {
    const where = source.kubeconfig ?? 'the default kubeconfig (KUBECONFIG, ~/.kube/config, in-cluster)';
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `kubernetes: cannot load ${where}: ${(error as Error).message}`, { cause: error });
  }
  if (source.server !== undefined) kc = withServer(kc, source.server);
  if (kc.getCurrentCluster() === null) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `kubernetes: kubeconfig has no current cluster (current-context "${kc.getCurrentContext()}")`);
  }
  return kc;
}

function withServer(kc: KubeConfig, server: string): KubeConfig {
  const plainHttp = checkServer(server);
  const current = kc.getCurrentCluster();
  const next = new KubeConfig();
  if (current === null) {
    next.loadFromClusterAndUser({ name: 'prescale', server, skipTLSVerify: plainHttp }, { name: 'prescale' });
    return next;
  }
  const replaced: Cluster = { ...current, server, ...(plainHttp ? { skipTLSVerify: true } : {}) };
  next.loadFromOptions({
    clusters: kc.clusters.map((cluster) => (cluster.name === current.name ? replaced : cluster)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return next;
}

/** @returns whether `server` is plain http (allowed to loopback only). */
function checkServer(server: string): boolean {
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `kubernetes server: expected a URL like "https://10.0.0.1:6443", got "${server}"`);
  }
  if (url.protocol === 'https:') return false;
  if (!LOOPBACK.has(url.hostname)) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `kubernetes server: plain http is allowed to a loopback address only (kubectl proxy), got "${server}"; use https`);
  }
  return true;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
