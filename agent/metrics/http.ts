// The daemon's Prometheus endpoint, when agent.conf asks for one: node:http, `GET /metrics`
// (and HEAD) only, every other path 404 and method 405. Read-only like the monitor socket, and
// as bounded: few connections at once, small request heads, short timeouts, no request body
// read, so whoever reaches the port cannot hold the daemon's memory or sockets.
import { createServer, type Server } from 'node:http';
import type { AgentSnapshot } from '../protocol/messages.js';
import type { MetricsListen } from './listen-address.js';
import { prometheusText } from './prometheus.js';

export const METRICS_HTTP_LIMITS = {
  maxConnections: 16,
  maxHeaderBytes: 8 * 1024,
  /** The whole request head must arrive within this. */
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  /** How often node:http enforces the two timeouts above (its default, 30 s, would let a slow client hold a slot that long). */
  timeoutCheckMs: 1000,
};

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsServer {
  /** Where it listens (the port chosen by the system when 0 was asked). */
  address: MetricsListen;
  close(): Promise<void>;
}

export async function serveMetrics(listen: MetricsListen, snapshot: () => AgentSnapshot): Promise<MetricsServer> {
  const limits = METRICS_HTTP_LIMITS;
  const server: Server = createServer(
    { maxHeaderSize: limits.maxHeaderBytes, headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, keepAliveTimeout: limits.keepAliveTimeoutMs, connectionsCheckingInterval: limits.timeoutCheckMs },
    (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': status === 200 ? CONTENT_TYPE : 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
        res.end(req.method === 'HEAD' ? undefined : body);
      };
      // A body is never read: a request that sends one is not ours, and its connection is not kept.
      if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) res.shouldKeepAlive = false;
      if (path !== '/metrics') return reply(404, 'drbd-agent serves /metrics only\n');
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'GET /metrics\n', { allow: 'GET, HEAD' });
      reply(200, prometheusText(snapshot()));
    },
  );
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : listen.port;
  return {
    address: { ...listen, port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
