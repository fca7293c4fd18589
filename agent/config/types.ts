// The validated form of a resource file (YAML or DRBD .res). Both formats load into this;
// everything downstream (engine, target, status) reads only this shape.

import type { IgnoredOptionSnapshot } from '../protocol/messages.js';

export type Protocol = 'A' | 'B' | 'C';

export type AfterSb0Pri =
  | 'disconnect'
  | 'discard-younger-primary'
  | 'discard-older-primary'
  | 'discard-zero-changes'
  | 'discard-least-changes'
  | `discard-node-${string}`;
export type AfterSb1Pri = 'disconnect' | 'consensus' | 'discard-secondary' | 'call-pri-lost-after-sb';
export type AfterSb2Pri = 'disconnect' | 'call-pri-lost-after-sb';

export interface NetConfig {
  /** '' when the file sets none (DRBD allows it): the peer link then runs unauthenticated, a warning problem. */
  sharedSecret: string;
  afterSb0Pri: AfterSb0Pri;
  afterSb1Pri: AfterSb1Pri;
  afterSb2Pri: AfterSb2Pri;
  /** Resync rate ceiling in bytes per second (DRBD c-max-rate, default 100 MiB/s). */
  maxRate: number;
  /** Seconds without an answer to a ping before the peer is declared dead (DRBD ping-timeout). */
  pingTimeout: number;
  /** net.data-integrity-alg crc32c: checksum replicated and resync data too (DRBD's default, none: TCP's checksum). */
  dataIntegrity?: boolean;
  /** net.tls psk: the peer link runs inside TLS keyed from the shared secret (peer-tls.ts); absent: plain TCP. */
  tls?: 'psk';
  /** Beyond DRBD: undo journal maximum per volume in bytes (consistent resync target); default a quarter of the volume. */
  undoJournalMax?: number;
}

export interface VolumeConfig {
  volume: number;
  /** This node's device and disk (when the loader was told the node; else the first host's). */
  device: string;
  /** The device's minor where its name does not end in it (.res `device /dev/drbd_NAME minor N`). */
  minor?: number;
  disk: string;
  /**
   * Every host's device and disk by host name, present only when they differ between the
   * hosts (DRBD allows `on HOST { disk ...; }`): the peer's paths are for display only.
   */
  perHost?: Record<string, { device: string; disk: string }>;
  /** Bytes; only for file disks, used when create-md creates the file. */
  size?: number;
  metaDisk: 'internal';
}

export interface HostConfig {
  name: string;
  nodeId: number;
  /** host:port as written; split for convenience. */
  address: string;
  host: string;
  port: number;
  /** The file gives no node-id: derived as drbdadm derives it (metadata written under another numbering is kept, never swapped silently). */
  nodeIdImplicit?: boolean;
}

export interface ChapConfig {
  user: string;
  secret: string;
  targetUser?: string;
  targetSecret?: string;
}

export interface IscsiConfig {
  iqn: string;
  portal: string;
  portalHost: string;
  portalPort: number;
  chap?: ChapConfig;
  /** iscsi.allowed-initiators: the initiator names that may log in; absent: any. */
  allowedInitiators?: string[];
  /** iscsi.service-address: the address the Primary holds while its target runs, so initiators keep one portal across a failover. */
  serviceAddress?: ServiceAddressConfig;
}

export interface ServiceAddressConfig {
  /** IPv4 address without the prefix. */
  address: string;
  prefix: number;
  /** iscsi.service-interface; absent: the interface holding an address in the same subnet. */
  interface?: string;
}

export interface ResourceConfig {
  resource: string;
  protocol: Protocol;
  net: NetConfig;
  volumes: VolumeConfig[];
  /** Exactly two hosts, in file order. */
  hosts: HostConfig[];
  iscsi?: IscsiConfig;
  /** DRBD options accepted but not honoured (the .res loader; none from YAML), in file order. */
  ignored?: IgnoredOption[];
  /** Where it was loaded from, and a hash of its meaning (same on both hosts when in sync). */
  /**
   * `mode`: the permission bits of the file its secrets are read from, when loaded from files
   * (their exposure, file-mode.ts); `secretFile`: that file when it is not `file` (a .res
   * resource whose shared secret is set in common { }, in global_common.conf).
   */
  source: { file: string; format: 'yaml' | 'res'; hash: string; mode?: number; secretFile?: string };
}

/** A DRBD option the file sets that drbd-tui accepts but does not act on yet, shown per resource as "ignored: OPTION (why)"; the snapshot carries it as is. */
export type IgnoredOption = IgnoredOptionSnapshot;

export interface ConfigError {
  file: string;
  line: number;
  col: number;
  /** The resource it keeps from loading, when known (a file may define several). */
  resource?: string;
  /** What is wrong and what is expected, e.g. "protocol: expected A, B or C, got \"D\"". */
  message: string;
}

/** "file:line:col: message", the form compilers use, so editors can jump to it. */
export function formatConfigError(e: ConfigError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.message}`;
}
