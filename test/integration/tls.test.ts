import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Agent, Client, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { PrescaleError } from '../../src/errors.js';
import { createBalancer } from '../../src/proxy/balancers/index.js';
import { createProxyHandler } from '../../src/proxy/forward.js';
import { closeServer, listenProxy } from '../../src/proxy/server.js';
import { watchSighup } from '../../src/proxy/tls.js';
import { createUpgradeHandler } from '../../src/proxy/upgrade.js';
import { Upstream } from '../../src/proxy/upstream.js';
import { startServer } from '../helpers/servers.js';

interface CertPair {
  certFile: string;
  keyFile: string;
  cert: string;
  fingerprint: string;
}

let dir = '';
let certA: CertPair;
let certB: CertPair;

/** A self-signed certificate for localhost and 127.0.0.1, made by the openssl CLI. */
function makeCert(name: string): CertPair {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'pipe' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('the TLS tests need the openssl command to make a self-signed certificate, and it is not on PATH');
    throw new Error(`openssl failed to make a test certificate: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
  const cert = readFileSync(certFile, 'utf8');
  return { certFile, keyFile, cert, fingerprint: new X509Certificate(cert).fingerprint256 };
}

/** Copy a certificate pair to the paths the listener is configured with. */
function install(pair: CertPair, name: string): { certFile: string; keyFile: string } {
  const files = { certFile: join(dir, `${name}-live.crt`), keyFile: join(dir, `${name}-live.key`) };
  copyFileSync(pair.certFile, files.certFile);
  copyFileSync(pair.keyFile, files.keyFile);
  return files;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'prescale-tls-'));
  certA = makeCert('a');
  certB = makeCert('b');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A plain HTTP backend that answers with the headers it received. */
async function startHeaderEcho() {
  const backend = await startServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.headers));
  });
  cleanups.push(() => backend.close());
  return backend;
}

/** prescale terminating TLS with `files` in front of `backendUrl` (X-Forwarded-Proto: https). */
async function startTlsProxy(backendUrl: string, files: { certFile: string; keyFile: string }) {
  const upstream = new Upstream(createBalancer('round-robin'), { connectTimeoutMs: 1000, firstByteTimeoutMs: 5000, idleTimeoutMs: 5000, keepAliveConnections: 4 });
  upstream.add('b1', backendUrl, 1, 'ready', true);
  const handler = createProxyHandler({ upstream, retries: 0, proto: 'https' });
  const upgrade = createUpgradeHandler({ upstream, connectTimeoutMs: 1000, proto: 'https' });
  const listener = await listenProxy(handler, { host: '127.0.0.1', port: 0, tls: files, upgrade });
  cleanups.push(async () => {
    listener.server.closeAllConnections();
    await closeServer(listener.server);
    await upstream.close();
  });
  return { ...listener, url: `https://127.0.0.1:${listener.port}` };
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

/** An undici dispatcher that trusts exactly `pair` (so it also proves which certificate was served). */
function trusting(pair: CertPair): Agent {
  const agent = new Agent({ connect: { ca: pair.cert } });
  cleanups.push(() => agent.close());
  return agent;
}

describe('tls: termination', () => {
  let badCases = 0;

  it('serves HTTPS in front of a plain HTTP backend, which sees X-Forwarded-Proto https', async () => {
    const backend = await startHeaderEcho();
    const proxy = await startTlsProxy(backend.url, install(certA, 'serve'));
    const res = await request(`${proxy.url}/x`, { dispatcher: trusting(certA) });
    expect(res.statusCode).toBe(200);
    const seen = (await res.body.json()) as IncomingHttpHeaders;
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('carries WebSockets (wss) to a plain ws backend', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const seen: IncomingHttpHeaders[] = [];
    wss.on('connection', (ws, req) => {
      seen.push(req.headers);
      ws.on('message', (data) => ws.send(data));
    });
    const proxy = await startTlsProxy(`http://127.0.0.1:${(wss.address() as AddressInfo).port}`, install(certA, 'wss'));
    const ws = new WebSocket(`wss://127.0.0.1:${proxy.port}/`, { ca: certA.cert });
    cleanups.push(async () => ws.terminate());
    await once(ws, 'open');
    const reply = once(ws, 'message') as Promise<[Buffer]>;
    ws.send('over tls');
    expect((await reply)[0].toString()).toBe('over tls');
    expect(seen[0]!['x-forwarded-proto']).toBe('https');
  });

  it.each([
    ['a missing certificate file', (f: { certFile: string; keyFile: string }) => rmSync(f.certFile), 'certFile'],
    ['a garbage certificate file', (f: { certFile: string; keyFile: string }) => writeFileSync(f.certFile, 'not a certificate'), 'certFile'],
    ['a garbage key file', (f: { certFile: string; keyFile: string }) => writeFileSync(f.keyFile, 'not a key'), 'keyFile'],
    ['a key that does not match the certificate', (f: { certFile: string; keyFile: string }) => copyFileSync(certB.keyFile, f.keyFile), 'keyFile'],
  ] as const)('refuses to start with %s: PRESCALE_ERR_CONFIG naming the file', async (_case, spoil, named) => {
    const files = install(certA, `bad-${++badCases}`);
    spoil(files);
    const handler = createProxyHandler({ upstream: new Upstream(createBalancer('round-robin'), { connectTimeoutMs: 1, firstByteTimeoutMs: 1, idleTimeoutMs: 1, keepAliveConnections: 1 }), retries: 0 });
    const err = await listenProxy(handler, { host: '127.0.0.1', port: 0, tls: files }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PrescaleError);
    expect((err as PrescaleError).code).toBe('PRESCALE_ERR_CONFIG');
    expect((err as PrescaleError).message).toContain(files[named]);
  });
});

describe('tls: certificate reload', () => {
  it('serves a new certificate to new connections while a keep-alive connection keeps working', async () => {
    const backend = await startHeaderEcho();
    const files = install(certA, 'reload');
    const proxy = await startTlsProxy(backend.url, files);
    // one connection that trusts only certificate A: a reconnect after the reload would fail
    const kept = new Client(proxy.url, { connect: { ca: certA.cert }, pipelining: 1 });
    cleanups.push(() => kept.close());
    const first = await kept.request({ path: '/', method: 'GET' });
    await first.body.text();
    expect(first.statusCode).toBe(200);
    let handshakes = 0;
    proxy.server.on('secureConnection', () => handshakes++);

    copyFileSync(certB.certFile, files.certFile);
    copyFileSync(certB.keyFile, files.keyFile);
    await proxy.reload();

    expect(await servedFingerprint(proxy.port)).toBe(certB.fingerprint);
    const again = await kept.request({ path: '/', method: 'GET' });
    await again.body.text();
    expect(again.statusCode).toBe(200);
    expect(handshakes).toBe(1); // only the fingerprint probe: the kept connection was reused
    const fresh = await request(proxy.url, { dispatcher: trusting(certB) });
    await fresh.body.text();
    expect(fresh.statusCode).toBe(200);
  });

  it('a reload with a garbage key file rejects naming the file and keeps serving the old certificate', async () => {
    const backend = await startHeaderEcho();
    const files = install(certA, 'garbage');
    const proxy = await startTlsProxy(backend.url, files);
    copyFileSync(certB.certFile, files.certFile);
    writeFileSync(files.keyFile, '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n');
    const err = await proxy.reload().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PrescaleError);
    expect((err as PrescaleError).code).toBe('PRESCALE_ERR_CONFIG');
    expect((err as PrescaleError).message).toContain(files.keyFile);
    expect(await servedFingerprint(proxy.port)).toBe(certA.fingerprint);
    const res = await request(proxy.url, { dispatcher: trusting(certA) });
    await res.body.text();
    expect(res.statusCode).toBe(200);
  });

  it('SIGHUP reloads the certificate and logs a failed reload without stopping', async () => {
    const backend = await startHeaderEcho();
    const files = install(certA, 'sighup');
    const proxy = await startTlsProxy(backend.url, files);
    const listenersBefore = process.listenerCount('SIGHUP');
    const logged: Array<{ level: 'info' | 'error'; msg: string }> = [];
    const unsubscribe = watchSighup(proxy.reload, {
      info: (_obj, msg) => logged.push({ level: 'info', msg }),
      error: (_obj, msg) => logged.push({ level: 'error', msg }),
    });
    try {
      copyFileSync(certB.certFile, files.certFile);
      copyFileSync(certB.keyFile, files.keyFile);
      process.kill(process.pid, 'SIGHUP');
      await vi.waitFor(() => expect(logged).toHaveLength(1), { timeout: 5000 });
      expect(logged[0]!.level).toBe('info');
      expect(await servedFingerprint(proxy.port)).toBe(certB.fingerprint);

      writeFileSync(files.keyFile, 'not a key');
      process.kill(process.pid, 'SIGHUP');
      await vi.waitFor(() => expect(logged).toHaveLength(2), { timeout: 5000 });
      expect(logged[1]!.level).toBe('error');
      expect(await servedFingerprint(proxy.port)).toBe(certB.fingerprint);
    } finally {
      unsubscribe();
    }
    expect(process.listenerCount('SIGHUP')).toBe(listenersBefore);
  });
});
