// The lab's wiring: one bridge in the root namespace, one veth per host into its network
// namespace. All synchronous so teardown works from exit and signal handlers.
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { InstanceNames } from './names.js';
import { runSync, sleepSync } from './run.js';

export function createNetwork(n: InstanceNames): void {
  // The bridge must not hand frames to iptables: with br_netfilter and a DROP forward
  // policy (Docker machines) host-to-host traffic would silently vanish.
  const root = [
    ...n.hosts.map((h) => `netns add ${h.netns}`),
    `link add ${n.bridge} type bridge nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0`,
    `addr add ${n.gateway}/24 dev ${n.bridge}`,
    `link set ${n.bridge} up`,
    ...n.hosts.flatMap((h) => [
      `link add ${h.veth} type veth peer name eth0 netns ${h.netns}`,
      `link set ${h.veth} master ${n.bridge}`,
      `link set ${h.veth} up`,
    ]),
  ];
  runSync('ip', ['-batch', '-'], { input: root.join('\n') + '\n' });
  for (const h of n.hosts) {
    const inside = ['link set lo up', `addr add ${h.address}/24 dev eth0`, 'link set eth0 up'];
    runSync('ip', ['-n', h.netns, '-batch', '-'], { input: inside.join('\n') + '\n' });
  }
}

/** Removes whatever of this instance's links and namespaces exists; kills their processes first. */
export function destroyNetwork(n: InstanceNames): void {
  for (const ns of ourNetns(n.prefix)) killNetnsProcesses(ns);
  // Links first: deleting a veth removes both ends at once, while a deleted namespace's
  // devices are torn down asynchronously by the kernel.
  const links = ourLinks(n.prefix);
  const cmds = [...links.filter((l) => l !== n.bridge), ...links.filter((l) => l === n.bridge)].map((l) => `link del ${l}`);
  cmds.push(...ourNetns(n.prefix).map((ns) => `netns del ${ns}`));
  if (cmds.length > 0) runSync('ip', ['-force', '-batch', '-'], { input: cmds.join('\n') + '\n', allowFail: true });
  const leftNs = ourNetns(n.prefix);
  const leftLinks = ourLinks(n.prefix);
  if (leftNs.length > 0 || leftLinks.length > 0) {
    throw new Error(`lab teardown left ${[...leftNs, ...leftLinks].join(', ')} behind`);
  }
}

export function ourNetns(prefix: string): string[] {
  const out = runSync('ip', ['netns', 'list'], { allowFail: true }).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}

export function ourLinks(prefix: string): string[] {
  const out = runSync('ip', ['-o', 'link', 'show'], { allowFail: true }).stdout;
  const names: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m?.[1]?.startsWith(prefix)) names.push(m[1]);
  }
  return names;
}

/** Whether 10.77.N.x is used by something that is not ours (another tool on this machine). */
export function subnetInUse(n: InstanceNames): boolean {
  const addrs = runSync('ip', ['-o', '-4', 'addr', 'show'], { allowFail: true }).stdout;
  const routes = runSync('ip', ['-4', 'route', 'show'], { allowFail: true }).stdout;
  const net = `10.77.${n.index}.`;
  return addrs.includes(` ${net}`) || routes.split('\n').some((r) => r.startsWith(net));
}

export function setLink(dev: string, up: boolean): void {
  runSync('ip', ['link', 'set', dev, up ? 'up' : 'down']);
}

/** The namespace's inode (what /proc/PID/ns/net links to), or undefined if it is gone. */
export function netnsInode(netns: string): number | undefined {
  try {
    return statSync(`/run/netns/${netns}`).ino;
  } catch {
    return undefined;
  }
}

/** Live processes whose network namespace is `inode`. Zombies have no namespace links and are skipped. */
export function pidsInNetns(inode: number): number[] {
  const want = `net:[${inode}]`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === want) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return pids;
}

/** The executable's file name (`sshd`, `node`, ...) or undefined if the process is gone. */
export function processExe(pid: number): string | undefined {
  try {
    return basename(readlinkSync(`/proc/${pid}/exe`)).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

/**
 * SIGKILLs every process in the namespace (only those: membership is checked by inode),
 * repeating until none is left, since a dying shell may have forked meanwhile.
 */
export function killNetnsProcesses(netns: string, filter: (pid: number) => boolean = () => true): void {
  const inode = netnsInode(netns);
  if (inode === undefined) return;
  for (let round = 0; round < 500; round++) {
    const pids = pidsInNetns(inode).filter((p) => p !== process.pid && filter(p));
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    sleepSync(round < 10 ? 2 : 10);
  }
  throw new Error(`processes in ${netns} survived SIGKILL: ${pidsInNetns(inode).join(' ')}`);
}
