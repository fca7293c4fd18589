// The metrics endpoint over real loopback TCP: GET /metrics only, bounded heads and connections.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { CONTENT_TYPE, METRICS_HTTP_LIMITS, serveMetrics, type MetricsServer } from '../../../agent/metrics/http.js';
import { prometheusText } from '../../../agent/metrics/prometheus.js';
import type { AgentSnapshot } from '../../../agent/protocol/messages.js';
import { setTimeout as sleep } from 'node:timers/promises';

const snap: AgentSnapshot = { node: 'ha-a', agentVersion: '0.1.0', resources: [], configErrors: [] };
let server: MetricsServer;
let base = '';

before(async () => {
  server = await serveMetrics({ host: '127.0.0.1', port: 0, loopback: true }, () => snap);
  base = `http://127.0.0.1:${server.address.port}`;
});
after(() => server.close());

/** One raw request on a fresh connection: the whole reply as text. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(server.address.port, '127.0.0.1');
    let buf = '';
    s.setEncoding('utf8').on('data', (d: string) => (buf += d));
    s.on('end', () => resolve(buf));
    s.on('close', () => resolve(buf));
    s.on('error', reject);
    s.end(request);
  });
}

test('GET /metrics answers the snapshot as Prometheus text; HEAD the same headers without the body', async () => {
  const r = await fetch(`${base}/metrics`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), CONTENT_TYPE);
  assert.equal(await r.text(), prometheusText(snap));
  const h = await fetch(`${base}/metrics?x=1`, { method: 'HEAD' });
  assert.equal(h.status, 200);
  assert.equal(Number(h.headers.get('content-length')), Buffer.byteLength(prometheusText(snap)));
});

test('every other path is 404 and every other method 405', async () => {
  for (const path of ['/', '/metrics/', '/debug', '/..%2fetc']) assert.equal((await fetch(`${base}${path}`)).status, 404, path);
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const r = await fetch(`${base}/metrics`, { method, body: method === 'DELETE' ? undefined : 'x' });
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
  }
});

test('a request head past the bound is refused, and the server keeps answering', async () => {
  const reply = await raw(`GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(METRICS_HTTP_LIMITS.maxHeaderBytes * 2)}\r\n\r\n`);
  assert.ok(!reply.startsWith('HTTP/1.1 200'), reply.slice(0, 80));
  assert.equal((await fetch(`${base}/metrics`)).status, 200);
  assert.equal(await raw('NONSENSE\r\n\r\n'), '');
});

test('connections past the cap are closed at accept; those within it are served', async () => {
  const held: Socket[] = [];
  try {
    for (let i = 0; i < METRICS_HTTP_LIMITS.maxConnections; i++) {
      const s = connect(server.address.port, '127.0.0.1');
      s.on('error', () => undefined);
      await new Promise((r) => s.once('connect', r));
      held.push(s);
    }
    const extra = connect(server.address.port, '127.0.0.1');
    extra.on('error', () => undefined);
    const closed = await new Promise<boolean>((resolve) => {
      extra.once('close', () => resolve(true));
      extra.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      extra.once('data', () => resolve(false));
    });
    assert.ok(closed, 'the connection past the cap is closed without an answer');
  } finally {
    for (const s of held) s.destroy();
  }
  // Once they go, the server accepts again.
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${base}/metrics`).catch(() => undefined);
    if (r?.status === 200) return;
    await sleep(20);
  }
  assert.fail('the server did not accept again');
});

test('a client that never finishes its request head is cut off, and its slot freed', async () => {
  const s = connect(server.address.port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
  const closed = await new Promise<boolean>((resolve) => {
    s.once('close', () => resolve(true));
    // Generous: the head timeout plus several checking intervals.
    setTimeout(() => resolve(false), METRICS_HTTP_LIMITS.headersTimeoutMs + 10 * METRICS_HTTP_LIMITS.timeoutCheckMs).unref();
  });
  s.destroy();
  assert.ok(closed, 'the slow client was closed');
});
