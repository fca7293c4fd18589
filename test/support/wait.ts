// Waiting in tests: state changes arrive as events, and these only bound how long a test waits
// for one. Sleeping is node:timers/promises' setTimeout, imported as `sleep`.
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `cond` until it gives a truthy value and resolves with it; rejects after `timeoutMs` naming `what`. */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const start = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A port that was free on `host` a moment ago (bind port 0, read it, release it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error(`no port bound on ${host}`))));
    });
  });
}
