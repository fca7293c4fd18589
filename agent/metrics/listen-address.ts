// Where the daemon's metrics endpoint listens, pure. The daemon opens no network port unless
// the operator writes one: a port alone (or `:PORT`, which to drbd-reactor means every
// address) listens on loopback, and any other address must be written as an IP address, so a
// host name that resolves elsewhere one day cannot open the endpoint to a network.
import { isIP } from 'node:net';
import { fail, ok, parseAddress, shown, type Parsed } from '../config/values.js';

export interface MetricsListen {
  /** An IP address, as node:net's listen takes it. */
  host: string;
  port: number;
  /** Reachable from this host only. */
  loopback: boolean;
}

export const DEFAULT_METRICS_PORT = 9942;
const EXAMPLE = `127.0.0.1:${DEFAULT_METRICS_PORT}`;

function isLoopback(ip: string): boolean {
  return isIP(ip) === 4 ? ip.startsWith('127.') : ip === '::1';
}

/** `metrics:`'s value (or --metrics'): `off`, PORT, :PORT, localhost:PORT, IP:PORT, [IPv6]:PORT. */
export function parseMetricsListen(v: unknown): Parsed<MetricsListen | undefined> {
  if (v === 'off' || v === false) return ok(undefined);
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string') return fail(`must be an address and port to serve metrics on, e.g. ${EXAMPLE}, or off (got ${shown(v)})`);
  const s = text.trim();
  const withHost = /^:?\d+$/.test(s) ? `127.0.0.1:${s.replace(/^:/, '')}` : s.replace(/^localhost:/, '127.0.0.1:');
  const a = parseAddress(withHost, EXAMPLE);
  if (!a.ok) return a;
  const { host, port } = a.value;
  if (isIP(host) === 0) {
    return fail(`names the host ${shown(host)}: write the address to listen on as an IP address, ${EXAMPLE} for this host only, or this host's address on the monitoring network to open the port to it`);
  }
  return ok({ host, port, loopback: isLoopback(host) });
}

/** host:port as one would type it back ([::1]:9942). */
export function formatListen(l: MetricsListen): string {
  return isIP(l.host) === 6 ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}
