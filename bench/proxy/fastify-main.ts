/**
 * The best Node peer: fastify 5 with @fastify/http-proxy (undici keep-alive Agent underneath),
 * round robin over the given backends through `replyOptions.getUpstream`, logging off.
 *
 *   node --import tsx bench/proxy/fastify-main.ts <port> <backend url> <backend url> ...
 *
 * Prints "ready" once listening; exits on SIGTERM.
 */
import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const [portArg, ...upstreams] = process.argv.slice(2);
if (portArg === undefined || upstreams.length === 0) throw new Error('usage: fastify-main.ts <port> <backend url>...');

let next = 0;
const app = Fastify({ logger: false, keepAliveTimeout: 75_000, bodyLimit: 10 * 1024 * 1024 });
await app.register(fastifyHttpProxy, {
  upstream: upstreams[0] as string,
  rewritePrefix: '/',
  replyOptions: {
    getUpstream: () => {
      const url = upstreams[next] as string;
      next = (next + 1) % upstreams.length;
      return url;
    },
  },
});
await app.listen({ port: Number(portArg), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
