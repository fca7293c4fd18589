// Which settings differ between the two hosts' resource files, named as the file names them
// (`protocol`, `net.ping-timeout`, `volumes.0.size`), so that the problem says what to fix and
// not only that the config hashes differ. Secrets are compared, never shown.
import { createHash } from 'node:crypto';
import { resourceRows, type ClusterModel, type DriftInfo } from './model.js';
import type { ResourceConfig } from '../../agent/protocol/config.js';

const fingerprint = (s: string | undefined) => (s === undefined ? '' : `secret:${createHash('sha256').update(s).digest('hex')}`);

/** A config as flat setting → value, the same for a YAML and a .res file of the same meaning. */
export function configFields(c: ResourceConfig): Record<string, string> {
  const f: Record<string, string> = {
    resource: c.resource,
    protocol: c.protocol,
    'net.shared-secret': fingerprint(c.net.sharedSecret),
    'net.after-sb-0pri': c.net.afterSb0Pri,
    'net.after-sb-1pri': c.net.afterSb1Pri,
    'net.after-sb-2pri': c.net.afterSb2Pri,
    'net.c-max-rate': String(c.net.maxRate),
    'net.ping-timeout': String(c.net.pingTimeout),
    'net.undo-journal-max': String(c.net.undoJournalMax ?? ''),
    'net.data-integrity-alg': c.net.dataIntegrity ? 'crc32c' : '',
    'net.tls': c.net.tls ?? '',
    hosts: c.hosts.map((h) => h.name).sort().join(','),
    volumes: c.volumes.map((v) => v.volume).sort((a, b) => a - b).join(','),
    iscsi: c.iscsi ? 'yes' : '',
  };
  for (const h of c.hosts) {
    f[`hosts.${h.name}.node-id`] = String(h.nodeId);
    f[`hosts.${h.name}.address`] = `${h.host.toLowerCase()}:${h.port}`;
  }
  for (const v of c.volumes) {
    const paths = (k: 'device' | 'disk') => (v.perHost ? JSON.stringify(Object.entries(v.perHost).map(([h, p]) => [h, p[k]]).sort()) : v[k]);
    f[`volumes.${v.volume}.device`] = paths('device');
    f[`volumes.${v.volume}.disk`] = paths('disk');
    f[`volumes.${v.volume}.size`] = String(v.size ?? '');
    f[`volumes.${v.volume}.meta-disk`] = v.metaDisk;
  }
  if (c.iscsi) {
    f['iscsi.iqn'] = c.iscsi.iqn;
    f['iscsi.portal'] = `${c.iscsi.portalHost.toLowerCase()}:${c.iscsi.portalPort}`;
    const sa = c.iscsi.serviceAddress;
    f['iscsi.service-address'] = sa ? `${sa.address}/${sa.prefix}` : '';
    f['iscsi.service-interface'] = sa?.interface ?? '';
    f['iscsi.chap.user'] = c.iscsi.chap?.user ?? '';
    f['iscsi.chap.secret'] = fingerprint(c.iscsi.chap?.secret);
    f['iscsi.chap.target-user'] = c.iscsi.chap?.targetUser ?? '';
    f['iscsi.chap.target-secret'] = fingerprint(c.iscsi.chap?.targetSecret);
  }
  return f;
}

/** The settings whose values differ, in the order the file lists them. */
export function driftFields(a: ResourceConfig, b: ResourceConfig): string[] {
  const fa = configFields(a);
  const fb = configFields(b);
  const keys = [...Object.keys(fa), ...Object.keys(fb).filter((k) => !(k in fa))];
  const differ = keys.filter((k) => (fa[k] ?? '') !== (fb[k] ?? ''));
  // A section one file lacks is one difference, not one per setting in it.
  return fa.iscsi !== fb.iscsi ? differ.filter((k) => !k.startsWith('iscsi.')) : differ;
}

/** What the console learnt by reading both hosts' files while their config hashes differed. */
/** The drift problem's text. Pure. */
export function driftText(resource: string, names: readonly [string, string], info: DriftInfo | undefined): string {
  const where = info ? ` (${names[0]} ${info.files[0]}, ${names[1]} ${info.files[1]})` : '';
  const fix = 'C on the host whose file is right copies it to the other';
  if (!info) return `config drift: ${resource}: ${names[0]} and ${names[1]} run different resource files (config hashes differ); ${fix}`;
  if (info.fields === undefined) return `config drift: ${resource}: ${names[0]} and ${names[1]} run different resource files${where}: ${info.unknown ?? 'the differences are not known'}`;
  if (info.fields.length === 0) {
    return `config drift: ${resource}: the files on ${names[0]} and ${names[1]} agree${where}, but a host still runs older settings: they take effect at its next down/up`;
  }
  return `config drift: ${resource}: ${names[0]} and ${names[1]} differ in ${info.fields.join(', ')}${where}; ${fix}`;
}

/**
 * The resources whose two live sides report different config hashes and for which the console
 * has not yet compared the files at those hashes: what it should read now.
 */
export function driftToCheck(m: ClusterModel): Array<{ resource: string; hashes: [string, string] }> {
  const out: Array<{ resource: string; hashes: [string, string] }> = [];
  const seen = new Set<string>();
  for (const row of resourceRows(m)) {
    if (seen.has(row.resource)) continue;
    seen.add(row.resource);
    const [a, b] = row.sides;
    if (!(a.reachable && a.present && b.reachable && b.present && a.configHash && b.configHash && a.configHash !== b.configHash)) continue;
    const known = m.drift?.[row.resource];
    if (known && known.hashes[0] === a.configHash && known.hashes[1] === b.configHash) continue;
    out.push({ resource: row.resource, hashes: [a.configHash, b.configHash] });
  }
  return out;
}
