// A short fingerprint of what a resource file means, so the console can tell at a glance
// whether both hosts run the same configuration even when one has YAML and the other a
// DRBD .res file. Where it came from (file name, format) and which host read it are not
// part of the meaning; every host's paths are.
import { createHash, scryptSync } from 'node:crypto';
import type { ResourceConfig } from './types.js';

/** JSON with object keys sorted at every level, so equal meanings give equal text. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

// The hash is shown on screens and in logs, so secrets enter it only through a deliberately
// slow KDF salted with the resource name: a mismatched secret still changes the hash, but
// the hash is no cheap oracle for guessing the secret. Memoised because both loaders and
// the console hash the same configs repeatedly.
const secretDigests = new Map<string, string>();
function secretsDigest(resource: string, secrets: Array<string | undefined>): string {
  const key = canonicalJson([resource, secrets.map((s) => s ?? null)]);
  let d = secretDigests.get(key);
  if (d === undefined) {
    d = scryptSync(canonicalJson(secrets.map((s) => s ?? null)), `drbd-tui/config-hash/v1/${resource}`, 16, { N: 1 << 14, r: 8, p: 1 }).toString('hex');
    if (secretDigests.size > 256) secretDigests.clear();
    secretDigests.set(key, d);
  }
  return d;
}

/** The meaning of a config as a plain object: host-independent, order-independent. */
export function configMeaning(c: ResourceConfig): unknown {
  const hosts = [...c.hosts].sort((a, b) => a.nodeId - b.nodeId);
  return {
    v: 1,
    resource: c.resource,
    protocol: c.protocol,
    net: {
      afterSb0Pri: c.net.afterSb0Pri,
      afterSb1Pri: c.net.afterSb1Pri,
      afterSb2Pri: c.net.afterSb2Pri,
      maxRate: c.net.maxRate,
      pingTimeout: c.net.pingTimeout,
      // Only when set, so that existing files keep their hash.
      ...(c.net.undoJournalMax !== undefined ? { undoJournalMax: c.net.undoJournalMax } : {}),
      ...(c.net.dataIntegrity ? { dataIntegrity: true } : {}),
      ...(c.net.tls ? { tls: c.net.tls } : {}),
    },
    hosts: hosts.map((h) => ({ name: h.name, nodeId: h.nodeId, host: h.host.toLowerCase(), port: h.port })),
    volumes: [...c.volumes]
      .sort((a, b) => a.volume - b.volume)
      .map((v) => ({
        volume: v.volume,
        size: v.size ?? null,
        metaDisk: v.metaDisk,
        paths: Object.fromEntries(hosts.map((h) => [h.name, v.perHost?.[h.name] ?? { device: v.device, disk: v.disk }])),
      })),
    iscsi: c.iscsi
      ? {
          iqn: c.iscsi.iqn,
          portalHost: c.iscsi.portalHost.toLowerCase(),
          portalPort: c.iscsi.portalPort,
          chapUser: c.iscsi.chap?.user ?? null,
          chapTargetUser: c.iscsi.chap?.targetUser ?? null,
          // Only when set, so that existing files keep their hash.
          ...(c.iscsi.allowedInitiators ? { allowedInitiators: [...c.iscsi.allowedInitiators].sort() } : {}),
          ...(c.iscsi.serviceAddress ? { serviceAddress: `${c.iscsi.serviceAddress.address}/${c.iscsi.serviceAddress.prefix}`, serviceInterface: c.iscsi.serviceAddress.interface ?? null } : {}),
        }
      : null,
    secrets: secretsDigest(c.resource, [c.net.sharedSecret, c.iscsi?.chap?.secret, c.iscsi?.chap?.targetSecret]),
  };
}

/** sha256 of the canonical meaning, first 16 hex digits. */
export function configHash(c: ResourceConfig): string {
  return createHash('sha256').update(canonicalJson(configMeaning(c))).digest('hex').slice(0, 16);
}
