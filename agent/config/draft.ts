// The middle of both loaders: each file format is read into a Draft (values already checked
// one by one, each with the position it came from), and finish() makes the checks that span
// the whole file (two hosts, distinct ids and addresses, volumes, per-host paths), resolves
// this node's paths and hashes the meaning. Keeping this shared is what makes a YAML file
// and a .res file with the same meaning load into the same ResourceConfig.
import type { AfterSb0Pri, AfterSb1Pri, AfterSb2Pri, ConfigError, HostConfig, IgnoredOption, IscsiConfig, Protocol, ResourceConfig, VolumeConfig } from './types.js';
import type { Address } from './values.js';
import { configHash } from './hash.js';

export interface At {
  line: number;
  col: number;
  /** Set when it is not the draft's own file (a drbd.conf tree: common in global_common.conf). */
  file?: string;
}
export interface Loc<T> {
  value: T;
  at: At;
}

/** A device or disk path; a device named /dev/drbd_NAME carries the minor its statement gave. */
export type PathLoc = Loc<string> & { minor?: number };

/** A device or disk path: one for all hosts, or one per host (`at` is where the per-host form is written). */
export type PerHost = { kind: 'all'; value: PathLoc } | { kind: 'each'; at?: At; byHost: Map<string, PathLoc> };

export interface DraftHost {
  name: Loc<string>;
  nodeId: Loc<number>;
  address: Loc<Address>;
  /** No node-id in the file: derived as drbdadm derives it. */
  implicit?: boolean;
}

export interface DraftVolume {
  volume: Loc<number>;
  device: PerHost;
  disk: PerHost;
  size?: number;
}

export interface Draft {
  file: string;
  format: 'yaml' | 'res';
  resource: Loc<string>;
  protocol: Protocol;
  net: {
    sharedSecret: string;
    afterSb0Pri: Loc<string>;
    afterSb1Pri: AfterSb1Pri;
    afterSb2Pri: AfterSb2Pri;
    maxRate: number;
    pingTimeout: number;
    undoJournalMax?: number;
    dataIntegrity?: boolean;
    tls?: 'psk';
  };
  /** Where the hosts are declared (YAML `hosts:` key, the .res `resource` keyword). */
  hostsAt: At;
  hosts: DraftHost[];
  volumesAt: At;
  volumes: DraftVolume[];
  iscsi?: IscsiConfig;
  ignored?: IgnoredOption[];
}

export interface LoadOptions {
  /** This node's name (`uname -n` or `--node`): selects its per-host paths and must be one of the hosts. */
  node?: string;
}

export type ParseResult = { config: ResourceConfig } | { errors: ConfigError[] };
/** A parse result that also says where the resource name was written (for duplicate-name errors). */
export type Located = { config: ResourceConfig; at: At } | { errors: ConfigError[] };

export const DEFAULTS = {
  protocol: 'C' as Protocol,
  afterSb: 'disconnect' as const,
  maxRate: 100 * 1024 * 1024,
  /** YAML's: seconds, drbd-tui's own default. */
  pingTimeout: 5,
  /** A .res file means what it means to DRBD: ping-timeout absent is 5 tenths of a second. */
  resPingTimeout: 0.5,
  portal: '0.0.0.0:3260',
};

export const SHARED_SECRET_WHY =
  'the peer link authenticates every connection with it (HMAC challenge-response), so that nothing but the other host can replicate into this disk; put the same long random string on both hosts (e.g. from openssl rand -base64 24)';

export function notAHostMessage(file: string, node: string, hosts: readonly string[]): string {
  return `this node '${node}' is not one of the hosts in ${file}: ${hosts.join(', ')}; set --node or fix hosts`;
}

export function finish(d: Draft, opts: LoadOptions): Located {
  const errors: ConfigError[] = [];
  const err = (at: At, message: string) => errors.push({ file: at.file ?? d.file, line: at.line, col: at.col, message, ...(d.format === 'res' ? { resource: d.resource.value } : {}) });
  const yaml = d.format === 'yaml';

  const names = d.hosts.map((h) => h.name.value);
  if (d.hosts.length !== 2) {
    const have = d.hosts.length === 0 ? 'none' : `${d.hosts.length}: ${names.join(', ')}`;
    err(
      d.hostsAt,
      yaml
        ? `hosts must name exactly two hosts, the replication pair (got ${have}); e.g. hosts: { ha-a: { node-id: 0, address: 10.77.0.11:7789 }, ha-b: { node-id: 1, address: 10.77.0.12:7789 } }`
        : `resource ${d.resource.value} needs exactly two "on HOST { ... }" sections, the replication pair (got ${have})`,
    );
  }
  d.hosts.forEach((h, i) => {
    const before = d.hosts.slice(0, i);
    if (before.some((o) => o.name.value === h.name.value)) err(h.name.at, `host ${h.name.value} is defined twice; each host appears once`);
    const sameId = before.find((o) => o.nodeId.value === h.nodeId.value);
    if (sameId) err(h.nodeId.at, `node-id ${h.nodeId.value} of ${h.name.value} is already used by ${sameId.name.value}; give each host its own node-id (0..31)`);
    const key = (a: Address) => `${a.host.toLowerCase()}:${a.port}`;
    const sameAddr = before.find((o) => key(o.address.value) === key(h.address.value));
    if (sameAddr) err(h.address.at, `address ${h.address.value.address} of ${h.name.value} is already used by ${sameAddr.name.value}; each host listens on its own address`);
  });

  const sb0 = d.net.afterSb0Pri;
  if (sb0.value.startsWith('discard-node-') && !names.includes(sb0.value.slice(13))) {
    err(sb0.at, `after-sb-0pri ${sb0.value} names host "${sb0.value.slice(13)}", which is not one of the hosts (${names.join(', ')}); write discard-node-<host>`);
  }

  if (d.volumes.length === 0) {
    err(d.volumesAt, yaml ? 'volumes must list at least one volume, e.g. volumes: [{ volume: 0, device: /dev/drbd1, disk: /dev/sdb1 }]' : `resource ${d.resource.value} has no volume: add "volume 0 { device /dev/drbd1; disk /dev/sdb1; meta-disk internal; }"`);
  }
  // Resolve every volume's device and disk for every host, reporting what is missing.
  const resolved = d.volumes.map((v, i) => {
    if (d.volumes.slice(0, i).some((o) => o.volume.value === v.volume.value)) {
      err(v.volume.at, `volume ${v.volume.value} is defined twice; volume numbers must be unique`);
    }
    const perField = (field: 'device' | 'disk') => {
      const p = v[field];
      const out = new Map<string, PathLoc>();
      if (p.kind === 'all') {
        for (const n of names) out.set(n, p.value);
        return out;
      }
      for (const [host, val] of p.byHost) {
        if (!names.includes(host)) err(val.at, `volume ${v.volume.value} gives a ${field} for "${host}", which is not one of the hosts (${names.join(', ')})`);
        else out.set(host, val);
      }
      for (const h of d.hosts) {
        if (!out.has(h.name.value)) err(p.at ?? h.name.at, `volume ${v.volume.value} has no ${field} for host ${h.name.value}; ${yaml ? `add ${h.name.value}: /path under ${field}` : `add "${field} ..." to the volume, or to on ${h.name.value}`}`);
      }
      return out;
    };
    return { v, device: perField('device'), disk: perField('disk') };
  });
  for (const field of ['device', 'disk'] as const) {
    for (const n of names) {
      const seen = new Map<string, number>();
      for (const r of resolved) {
        const val = r[field].get(n);
        if (!val) continue;
        const other = seen.get(val.value);
        if (other !== undefined && other !== r.v.volume.value) {
          err(val.at, `volume ${r.v.volume.value} uses ${field} ${val.value} on ${n}, which volume ${other} already uses; each volume needs its own ${field}`);
        } else seen.set(val.value, r.v.volume.value);
      }
    }
  }

  if (opts.node !== undefined && d.hosts.length > 0 && !names.includes(opts.node)) {
    err(d.hostsAt, notAHostMessage(d.file, opts.node, names));
  }
  if (errors.length > 0) return { errors: sortErrors(errors) };

  const local = opts.node !== undefined && names.includes(opts.node) ? opts.node : names[0]!;
  const hosts: HostConfig[] = d.hosts.map((h) => ({
    name: h.name.value,
    nodeId: h.nodeId.value,
    address: h.address.value.address,
    host: h.address.value.host,
    port: h.address.value.port,
    ...(h.implicit ? { nodeIdImplicit: true } : {}),
  }));
  const volumes: VolumeConfig[] = resolved
    .map(({ v, device, disk }) => {
      const dev = device.get(local)!;
      const vol: VolumeConfig = { volume: v.volume.value, device: dev.value, disk: disk.get(local)!.value, metaDisk: 'internal' };
      if (dev.minor !== undefined) vol.minor = dev.minor;
      if (v.size !== undefined) vol.size = v.size;
      const same = (m: Map<string, Loc<string>>) => new Set([...m.values()].map((l) => l.value)).size === 1;
      if (!same(device) || !same(disk)) {
        vol.perHost = Object.fromEntries(names.map((n) => [n, { device: device.get(n)!.value, disk: disk.get(n)!.value }]));
      }
      return vol;
    })
    .sort((a, b) => a.volume - b.volume);

  const config: ResourceConfig = {
    resource: d.resource.value,
    protocol: d.protocol,
    net: {
      sharedSecret: d.net.sharedSecret,
      afterSb0Pri: sb0.value as AfterSb0Pri,
      afterSb1Pri: d.net.afterSb1Pri,
      afterSb2Pri: d.net.afterSb2Pri,
      maxRate: d.net.maxRate,
      pingTimeout: d.net.pingTimeout,
      ...(d.net.undoJournalMax !== undefined ? { undoJournalMax: d.net.undoJournalMax } : {}),
      ...(d.net.dataIntegrity ? { dataIntegrity: true } : {}),
      ...(d.net.tls ? { tls: d.net.tls } : {}),
    },
    volumes,
    hosts,
    ...(d.iscsi ? { iscsi: d.iscsi } : {}),
    ...(d.ignored && d.ignored.length > 0 ? { ignored: d.ignored } : {}),
    source: { file: d.file, format: d.format, hash: '' },
  };
  config.source.hash = configHash(config);
  return { config, at: d.resource.at };
}

export function sortErrors(errors: ConfigError[]): ConfigError[] {
  return [...errors].sort((a, b) => (a.file === b.file ? a.line - b.line || a.col - b.col : 0));
}
