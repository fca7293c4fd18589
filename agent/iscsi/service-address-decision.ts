// What to do with a resource's service address (iscsi.service-address), decided from facts
// the I/O edge gathers: the host's interfaces (`ip -j addr`), the tools present, what
// duplicate address detection heard, the local role and target. Pure, so every case has a
// table test; agent/iscsi/service-address.ts runs `ip` and `arping`.
import type { ServiceAddressConfig } from '../config/types.js';
import type { Role } from '../drbd-states.js';

export interface InterfaceAddress {
  address: string;
  prefix: number;
}

export interface LocalInterface {
  name: string;
  /** The interface's hardware address, lower case (what a peer's DAD answer would show). */
  mac: string;
  ipv4: InterfaceAddress[];
}

/** `ip -j addr` → the interfaces and their IPv4 addresses; whatever does not look like ip's JSON is skipped. */
export function parseIpAddrJson(text: string): LocalInterface[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const out: LocalInterface[] = [];
  for (const l of raw as Array<Record<string, unknown>>) {
    if (typeof l?.ifname !== 'string') continue;
    const infos = Array.isArray(l.addr_info) ? (l.addr_info as Array<Record<string, unknown>>) : [];
    out.push({
      name: l.ifname,
      mac: typeof l.address === 'string' ? l.address.toLowerCase() : '',
      ipv4: infos
        .filter((a) => a.family === 'inet' && typeof a.local === 'string' && typeof a.prefixlen === 'number')
        .map((a) => ({ address: a.local as string, prefix: a.prefixlen as number })),
    });
  }
  return out;
}

function ipv4Number(a: string): number {
  return a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** Whether two IPv4 addresses share the first `prefix` bits. */
export function sameSubnet(a: string, b: string, prefix: number): boolean {
  const shift = 32 - prefix;
  // Division rather than >>>: a shift by 32 is a shift by 0 in JavaScript.
  return Math.floor(ipv4Number(a) / 2 ** shift) === Math.floor(ipv4Number(b) / 2 ** shift);
}

/** `10.77.0.0/24` for 10.77.0.100/24: how messages name the subnet. */
export function subnetOf(sa: { address: string; prefix: number }): string {
  const base = Math.floor(ipv4Number(sa.address) / 2 ** (32 - sa.prefix)) * 2 ** (32 - sa.prefix);
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${sa.prefix}`;
}

export const formatServiceAddress = (sa: { address: string; prefix: number }): string => `${sa.address}/${sa.prefix}`;

/** The local interface that holds the address now, if any. */
export function heldOn(ifaces: readonly LocalInterface[], address: string): string | undefined {
  return ifaces.find((i) => i.ipv4.some((a) => a.address === address))?.name;
}

/**
 * The interface the address goes on: the configured one, which must exist; else the one that
 * holds another address of the same subnet (the initiators' network), which must be unique.
 */
export function chooseInterface(ifaces: readonly LocalInterface[], sa: ServiceAddressConfig): { name: string } | { error: string } {
  const shown = formatServiceAddress(sa);
  if (sa.interface !== undefined) {
    if (ifaces.some((i) => i.name === sa.interface)) return { name: sa.interface };
    return { error: `interface ${sa.interface} (iscsi.service-interface) does not exist on this host; have: ${ifaces.map((i) => i.name).join(', ') || 'none'}` };
  }
  const held = heldOn(ifaces, sa.address);
  if (held) return { name: held };
  const matching = ifaces.filter((i) => i.ipv4.some((a) => sameSubnet(a.address, sa.address, sa.prefix)));
  if (matching.length === 1) return { name: matching[0]!.name };
  if (matching.length === 0) {
    return { error: `no interface of this host has an address in ${subnetOf(sa)} for service address ${shown}; give one an address of that subnet, or set iscsi.service-interface` };
  }
  return { error: `interfaces ${matching.map((i) => i.name).join(' and ')} both have addresses in ${subnetOf(sa)}: set iscsi.service-interface to say which one carries service address ${shown}` };
}

/**
 * `arping -D` output → the hardware address that answered ("Unicast reply from 10.77.0.100
 * [1A:05:…]"), or that announced the address itself meanwhile ("Broadcast request from
 * 10.77.0.100 [...]": a host claiming it is a conflict too, RFC 5227).
 */
export function dadAnswer(stdout: string): string | undefined {
  return /(?:reply|request) from \S+ \[([0-9A-Fa-f:]{11,})\]/.exec(stdout)?.[1]?.toLowerCase();
}

export interface ClaimFacts {
  resource: string;
  sa: ServiceAddressConfig;
  /** Debian packages whose tools are missing here (iproute2, iputils-arping). */
  missingPackages: readonly string[];
  iface?: { name: string } | { error: string };
  /** The peer's role as last heard, and its name. */
  peer?: { name: string; role: Role };
  /** The hardware address that answered duplicate address detection; undefined when nobody did. */
  answeredBy?: string;
}

/**
 * Why this host may not take the address, or undefined when it may. Called twice by the edge:
 * before the detection runs (no answeredBy yet) and after it.
 */
export function claimRefusal(f: ClaimFacts): string | undefined {
  const shown = formatServiceAddress(f.sa);
  const refused = `target start refused: ${f.resource}`;
  if (f.missingPackages.length > 0) {
    return `${refused} has service address ${shown}, which needs ip and arping on this host: apt-get install ${f.missingPackages.join(' ')}`;
  }
  if (f.iface && 'error' in f.iface) return `${refused}: ${f.iface.error}`;
  if (f.peer?.role === 'Primary') return `${refused}: the peer ${f.peer.name} is Primary and may hold service address ${shown}; demote it first`;
  if (f.answeredBy !== undefined) {
    const on = f.iface && 'name' in f.iface ? ` on ${f.iface.name}` : '';
    return `${refused}: service address ${f.sa.address} is in use: ${f.answeredBy} answered for it (duplicate address detection${on}); remove it from the host that holds it (ip addr del ${shown} dev IF), then start the target`;
  }
  return undefined;
}

/** Whether this host should hold the address: it is Primary and its target runs. */
export function wantsAddress(role: Role, targetRunning: boolean): boolean {
  return role === 'Primary' && targetRunning;
}

export type SettleStep = 'add' | 'remove' | 'none';

/**
 * From what this host should hold and what it holds, the step that makes them agree. A held
 * address nobody here serves behind (a crash, a demote, a stopped target) is removed, so that
 * initiators fail over to the host that serves; adding happens only through target start,
 * after the claim checks.
 */
export function settle(wanted: boolean, held: boolean): SettleStep {
  if (held && !wanted) return 'remove';
  if (!held && wanted) return 'add';
  return 'none';
}
