/**
 * Equivalent configurations for the contenders: round robin (prescale: P2C) over the same
 * backends, upstream keep-alive, X-Forwarded-For added, no access log, client keep-alive
 * without a request cap. Each returns the text of the file the contender reads.
 */

export interface ProxySetup {
  port: number;
  /** Backend ports on 127.0.0.1. */
  backends: readonly number[];
  /** Scratch directory of this contender (pid file, temp paths, traffic log). */
  dir: string;
}

/**
 * nginx: `worker_processes` workers, upstream `keepalive 64` with HTTP/1.1 and an empty
 * Connection header (http://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive),
 * proxy buffers large enough that a 64 KB response never goes to a temp file.
 */
export function nginxConf(s: ProxySetup, workers: number): string {
  const servers = s.backends.map((p) => `    server 127.0.0.1:${p};`).join('\n');
  return `worker_processes ${workers};
pid ${s.dir}/nginx.pid;
error_log ${s.dir}/error.log warn;
events { worker_connections 16000; }
http {
  access_log off;
  client_body_temp_path ${s.dir}/client_body;
  proxy_temp_path ${s.dir}/proxy_temp;
  fastcgi_temp_path ${s.dir}/fastcgi_temp;
  uwsgi_temp_path ${s.dir}/uwsgi_temp;
  scgi_temp_path ${s.dir}/scgi_temp;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  upstream backends {
${servers}
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${s.port} backlog=4096;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffer_size 8k;
      proxy_buffers 16 8k;
    }
  }
}
`;
}

/**
 * HAProxy: one thread (`nbthread 1`), `balance roundrobin`, `http-reuse always` (server-side
 * connection pooling, https://docs.haproxy.org/2.6/configuration.html#4-http-reuse),
 * `option forwardfor`, active HTTP health checks every 2 s as prescale's.
 */
export function haproxyConf(s: ProxySetup): string {
  const servers = s.backends.map((p, i) => `  server s${i + 1} 127.0.0.1:${p} check inter 2s`).join('\n');
  return `global
  nbthread 1
  maxconn 4096
  pidfile ${s.dir}/haproxy.pid
defaults
  mode http
  timeout connect 2s
  timeout client 75s
  timeout server 60s
  timeout http-keep-alive 75s
  option http-keep-alive
  option forwardfor
  http-reuse always
frontend fe
  bind 127.0.0.1:${s.port} backlog 4096
  default_backend be
backend be
  balance roundrobin
  option httpchk GET /healthz
${servers}
`;
}

/**
 * prescale with its production features on: P2C, traffic recording with the durable traffic log
 * in `dir`, metrics on the admin port, active health checks (2 s, rise 2), passive health, the
 * forecaster and the control loop (static provider); client keep-alive 75 s as nginx's and
 * HAProxy's here. `workers` is written only when given, at `workersKey`: 'workers' (top level)
 * or 'listen.workers'.
 */
export function prescaleYaml(s: ProxySetup, adminPort: number, workers?: number, workersKey = 'workers'): string {
  const backends = s.backends.map((p) => `    - url: http://127.0.0.1:${p}`).join('\n');
  const top = workers !== undefined && workersKey === 'workers' ? `workers: ${workers}\n` : '';
  const inListen = workers !== undefined && workersKey === 'listen.workers' ? `  workers: ${workers}\n` : '';
  return `${top}listen:
  host: 127.0.0.1
  port: ${s.port}
  keepAliveTimeoutMs: 75s
${inListen}admin:
  host: 127.0.0.1
  port: ${adminPort}
upstream:
  algorithm: p2c
  backends:
${backends}
  keepAliveConnections: 64
  healthCheck:
    kind: http
    path: /healthz
    intervalMs: 2s
series:
  intervalMs: 10s
  logDir: ${s.dir}/traffic
forecast:
  historyFrom: traffic-log
  retrain:
    enabled: false
    modelsDir: ${s.dir}/models
scaler:
  policy: predictive
  capacityPerBackendRps: 10000
  minBackends: 1
  maxBackends: 10
provider:
  kind: static
log:
  level: warn
`;
}

/** wrk Lua script for the 1 KB POST scenario. */
export const POST_LUA = `wrk.method = "POST"
wrk.body = string.rep("x", 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
`;
