/**
 * Build the two @google-cloud/compute clients the gcp provider uses (InstanceGroupManagersClient,
 * InstancesClient) on the library's REST transport (`fallback: true`, HTTP/1.1 + JSON to
 * /compute/v1/..., the only transport Compute Engine has).
 *
 * Endpoint: the library joins `protocol`, `apiEndpoint` (host only) and `port` into
 * `{protocol}://{host}:{port}/compute/v1/...`; the port must be passed on its own, because the
 * client fills in 443 and that overrides a port written into apiEndpoint. `protocol: 'http'` is
 * the library's supported switch to plain HTTP (google-gax fallback.ts, createStub).
 *
 * Timeout: every HTTP request (token requests of ADC included) is aborted after `timeoutMs`.
 *
 * Auth: with `accessToken`, one google-auth-library OAuth2Client holding just that token is
 * passed as `authClient`: it never refreshes and never looks for credentials, so nothing but the
 * endpoint is contacted. Without it, one GoogleAuth (Application Default Credentials: the
 * GOOGLE_APPLICATION_CREDENTIALS file, gcloud's ADC file, or the metadata server on GCE/GKE)
 * is shared by both clients.
 */
import { InstanceGroupManagersClient, InstancesClient } from '@google-cloud/compute';
import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import { PrescaleError } from '../../errors.js';

export interface ComputeEndpoint {
  readonly protocol: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** e.g. "https://compute.googleapis.com:443", for messages. */
  readonly origin: string;
}

export interface ComputeClients {
  readonly groups: InstanceGroupManagersClient;
  readonly instances: InstancesClient;
  readonly endpoint: ComputeEndpoint;
  close(): Promise<void>;
}

export const DEFAULT_API_ENDPOINT = 'https://compute.googleapis.com';

/**
 * Parse the apiEndpoint option: an http:// or https:// URL with no path, or a bare
 * "host[:port]" (https). Default https://compute.googleapis.com:443.
 * @throws PrescaleError PRESCALE_ERR_CONFIG for anything else
 */
export function parseApiEndpoint(value: string | undefined): ComputeEndpoint {
  const text = value ?? DEFAULT_API_ENDPOINT;
  let url: URL | undefined;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    url = undefined;
  }
  const valid = url && (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.username && !url.password;
  if (!url || !valid) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `gcp provider apiEndpoint: expected an http(s):// origin such as "https://compute.googleapis.com", got ${JSON.stringify(text)}`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { protocol, host, port, origin: `${protocol}://${url.host.replace(/:\d+$/, '')}:${port}` };
}

/**
 * @throws PrescaleError PRESCALE_ERR_CONFIG for a bad endpoint, an empty token, or a plain-http
 *   endpoint without `accessToken` (real credentials are never sent in clear text)
 */
export function createComputeClients(options: { readonly apiEndpoint?: string; readonly accessToken?: string; readonly timeoutMs: number }): ComputeClients {
  const endpoint = parseApiEndpoint(options.apiEndpoint);
  if (options.accessToken !== undefined && options.accessToken.trim() === '') {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', 'gcp provider accessToken: expected a non-empty OAuth 2.0 access token, or leave it out to use Application Default Credentials');
  }
  if (endpoint.protocol === 'http' && options.accessToken === undefined) {
    throw new PrescaleError('PRESCALE_ERR_CONFIG', `gcp provider apiEndpoint ${endpoint.origin} is plain HTTP: set accessToken (a test or emulator token); Application Default Credentials are only sent over HTTPS`);
  }
  // google-gax ignores its `timeout` call option on the REST transport; gaxios (under the auth
  // client) applies this one to every request and aborts it when it runs out.
  const transporterOptions = { timeout: options.timeoutMs };
  const auth =
    options.accessToken === undefined
      ? { auth: new GoogleAuth({ scopes: InstanceGroupManagersClient.scopes, clientOptions: { transporterOptions } }) }
      : { authClient: staticToken(options.accessToken, transporterOptions) };
  const clientOptions = { ...auth, fallback: true, protocol: endpoint.protocol, apiEndpoint: endpoint.host, port: endpoint.port };
  const groups = new InstanceGroupManagersClient(clientOptions);
  const instances = new InstancesClient(clientOptions);
  return {
    groups,
    instances,
    endpoint,
    close: async () => {
      await Promise.all([groups.close(), instances.close()]);
    },
  };
}

function staticToken(accessToken: string, transporterOptions: { timeout: number }): OAuth2Client {
  const client = new OAuth2Client({ transporterOptions });
  client.setCredentials({ access_token: accessToken });
  return client;
}
