// The two-host test lab shared by every integration suite (`*.lab.test.ts`).
//
// Needs root and openssh-server, openssh-client, iproute2, util-linux. Usage:
//
//   import { createLab, describeLab, type Lab } from '../lab/lab.js';
//   describeLab('my suite', () => {      // skipped with the reason, or an error under CI=true
//     let lab: Lab;
//     before(async () => { lab = await createLab(); });
//     after(() => lab?.destroy());
//     test('...', async () => {
//       const r = await lab.a.exec(['uname', '-n']);            // → { code: 0, stdout: 'ha-a\n', ... }
//     });
//   });
//
// createLab(opts?) → Promise<Lab>
//   opts.sshd         start an OpenSSH sshd in each host (default true)
//   opts.privateDirs  more in-host paths to make private per host (besides /etc/drbd-tui,
//                     /var/lib/drbd-tui, /run/drbd-tui, /usr/local/sbin); must not contain the temp dir
//   opts.keep         keep the data root after destroy, for post-mortems (also DRBD_TUI_LAB_KEEP=1)
//
// Lab
//   index, subnet ('10.77.N.0/24'), gateway ('10.77.N.1': the test process's address on the
//   lab bridge), bridge; hosts [a, b]; a, b; host('ha-a' | 'ha-b')
//   sshConfig   ssh_config with aliases ha-a, ha-b (HostName = address, User root, IdentityFile,
//               UserKnownHostsFile, StrictHostKeyChecking yes): `ssh -F lab.sshConfig ha-a`
//   knownHosts  known_hosts holding both hosts' keys (under alias and address)
//   identity    the client's private key (ed25519, authorized for root on both hosts)
//   dataRoot    temp dir holding all of the above and the hosts' private dirs
//   destroy()   kills every process of both hosts, removes namespaces, links, files and the
//               instance lock. Also runs on process exit and SIGINT/SIGTERM/SIGHUP; what a
//               SIGKILLed run leaves behind is removed by the next createLab.
//
// LabHost (lab.a = 'ha-a' at 10.77.N.11, lab.b = 'ha-b' at 10.77.N.12; instance 0 is 10.77.0.x)
//   name, address, netns, veth, poweredOn, linkCut, initPid, sshdPid
//   spawn(argv, { env, cwd, stdio, detached }) → ChildProcess inside the host (its network,
//               `uname -n`, private dirs); cwd is an in-host path (default /), env defaults
//               to the test's; killed by powerOff and destroy like every process of the host
//   exec(argv, { env, cwd, input, timeoutMs = 30000 }) → Promise<{ code, signal, stdout, stderr }>;
//               rejects (after SIGKILL) on timeout
//   dirs        { etc, state, run, root }: real paths backing /etc/drbd-tui, /var/lib/drbd-tui,
//               /run/drbd-tui; realPath(inHostPath) maps any private path
//   stopSshd({ keepSessions? }) / startSshd()   take sshd away (with its sessions unless
//               keepSessions) and bring it back; daemons started over ssh keep running
//   powerOff({ silent = true }) / powerOn()   SIGKILL every process of the host (found by
//               network namespace, nothing else). silent: the link goes dark first, so peers
//               see timeouts, not resets (a real power loss); silent false: peers get FIN/RST.
//               Private dirs persist like disks. powerOn boots init + sshd, then the link.
//   cutLink() / restoreLink()   the host's link down/up (both to the test process and to the
//               peer host); independent of power state
//   pids(), sshdLog()
//
// ssh2 helpers (as the console connects: ssh -G, IdentityFile, known_hosts check):
//   connectLabSsh(lab.sshConfig, 'ha-a', { knownHostsFiles?, readyTimeout = 5000,
//               keepaliveInterval?, keepaliveCountMax? }) → Promise<Client>; a key that does
//               not match rejects with HostKeyRejected (verdict + OpenSSH's warning text)
//   sshExec(client, 'cmd') → Promise<{ code, signal, stdout, stderr }>
//
// Prerequisites: describeLab(name, fn) (a skipped test with the reason when the lab cannot
// run; throws under CI=true), labSkipReason() for describe(name, { skip }), requireLab(t)
// inside a test, labUnavailableReason() for a plain check.
//
// Things to know: addresses depend on the instance, so generate resource files from
// lab.a.address / lab.b.address (10.77.0.11 only for instance 0). Apart from the private dirs
// the hosts share the machine's filesystem (an agent installed under /usr/local is seen by
// both; add such paths to privateDirs). Each host's /etc/hosts names ha-a and ha-b (a
// private copy). Hosts have no default route: only the lab subnet.
//
// How it is built: instance N is claimed by mkdir /run/drbd-tui-lab/N (atomic; several labs
// run at once). Names: netns drbdlabN-ha-a/-ha-b, bridge drbdlabN-br, veths drbdlabN-h0/-h1
// (eth0 inside the host). Each host has an init process (ip netns exec + unshare --uts
// --mount) that sets the hostname, bind-mounts the private dirs and sleeps; everything else
// of that host is started with nsenter -t INIT --net --uts --mount. Creating the mount points
// leaves empty /etc/drbd-tui, /var/lib/drbd-tui, /run/drbd-tui, /usr/local/sbin on the machine.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { DEFAULT_PRIVATE_DIRS, LabHost } from './host.js';
import { claimInstance, dataRootPrefix, releaseInstance, removeDataRoot, writeOwner, type Claim } from './instance.js';
import type { InstanceNames } from './names.js';
import { createNetwork, destroyNetwork } from './netns.js';
import { labUnavailableReason } from './prerequisites.js';
import { generateKey, knownHostsText, sshConfigText, writeSshdFiles } from './ssh-files.js';
import { registerLab, unregisterLab } from './teardown-on-exit.js';

export { LabHost, type HostDirs, type HostExecOptions, type HostExecResult, type HostSpawnOptions } from './host.js';
export { connectLabSsh, HostKeyRejected, sshExec, type LabSshOptions, type SshExecResult } from './ssh-client.js';
export { HOST_NAMES, instanceNames, type InstanceNames } from './names.js';
export { describeLab, labSkipReason, labUnavailableReason, requireLab } from './prerequisites.js';

export interface LabOptions {
  sshd?: boolean;
  privateDirs?: readonly string[];
  keep?: boolean;
}

export class Lab {
  readonly index: number;
  readonly subnet: string;
  readonly gateway: string;
  readonly bridge: string;
  readonly hosts: readonly [LabHost, LabHost];
  readonly sshConfig: string;
  readonly knownHosts: string;
  readonly identity: string;
  readonly dataRoot: string;

  readonly #claim: Claim;
  readonly #keep: boolean;
  #destroyed = false;

  constructor(claim: Claim, hosts: readonly [LabHost, LabHost], files: { dataRoot: string; sshConfig: string; knownHosts: string; identity: string }, keep: boolean) {
    const n: InstanceNames = claim.names;
    this.index = n.index;
    this.subnet = n.subnet;
    this.gateway = n.gateway;
    this.bridge = n.bridge;
    this.hosts = hosts;
    this.dataRoot = files.dataRoot;
    this.sshConfig = files.sshConfig;
    this.knownHosts = files.knownHosts;
    this.identity = files.identity;
    this.#claim = claim;
    this.#keep = keep;
  }

  get a(): LabHost {
    return this.hosts[0];
  }
  get b(): LabHost {
    return this.hosts[1];
  }
  get destroyed(): boolean {
    return this.#destroyed;
  }

  host(name: string): LabHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no lab host '${name}' (have ${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  async destroy(): Promise<void> {
    this.destroySync();
  }

  /** Idempotent; synchronous so it can run from exit and signal handlers. */
  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    unregisterLab(this);
    teardown(this.#claim, this.hosts, this.#keep ? undefined : this.dataRoot);
  }
}

function teardown(claim: Claim, hosts: readonly LabHost[], dataRoot: string | undefined): void {
  const errors: string[] = [];
  for (const h of hosts) {
    try {
      h.killAllSync();
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  try {
    destroyNetwork(claim.names);
  } catch (err) {
    errors.push((err as Error).message);
  }
  removeDataRoot(dataRoot);
  releaseInstance(claim);
  if (errors.length > 0) throw new Error(`lab ${claim.names.index} teardown: ${errors.join('; ')}`);
}

/** What the hosts' /etc/hosts says: each host can reach the other by name, as on real pairs. */
function etcHostsText(n: InstanceNames): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', ...n.hosts.map((h) => `${h.address} ${h.name}`)];
  return lines.join('\n') + '\n';
}

export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const why = labUnavailableReason();
  if (why) throw new Error(why);
  const privateDirs = [...new Set([...DEFAULT_PRIVATE_DIRS, ...(opts.privateDirs ?? [])].map((d) => posix.normalize(d).replace(/\/+$/, '')))];
  for (const d of privateDirs) {
    if (!d.startsWith('/')) throw new Error(`private dir must be an absolute path below /: ${d}`);
    if ((tmpdir() + '/').startsWith(d + '/')) throw new Error(`private dir ${d} would hide the lab's files in ${tmpdir()}`);
  }
  const keep = opts.keep ?? process.env.DRBD_TUI_LAB_KEEP === '1';
  const claim = claimInstance();
  const names = claim.names;
  let dataRoot: string | undefined;
  const hosts: LabHost[] = [];
  try {
    dataRoot = mkdtempSync(dataRootPrefix(names.index));
    writeOwner(claim.lockDir, { dataRoot });
    createNetwork(names);

    const sshDir = join(dataRoot, 'ssh');
    mkdirSync(sshDir, { recursive: true });
    const wantSshd = opts.sshd ?? true;
    const client = await generateKey(join(sshDir, 'id_ed25519'), 'drbd-tui-lab-client');
    const sshd = await Promise.all(
      names.hosts.map(async (h) => {
        if (!wantSshd) return undefined;
        const dir = join(dataRoot as string, 'hosts', h.name, 'sshd');
        mkdirSync(dir, { recursive: true });
        return writeSshdFiles(dir, h.name, client.publicLine);
      }),
    );
    const etcHosts = join(dataRoot, 'etc-hosts');
    writeFileSync(etcHosts, etcHostsText(names));
    for (const [i, h] of names.hosts.entries()) {
      hosts.push(new LabHost(h, join(dataRoot, 'hosts', h.name), privateDirs, sshd[i], etcHosts));
    }
    const knownHosts = join(sshDir, 'known_hosts');
    const sshConfig = join(sshDir, 'ssh_config');
    const entries = names.hosts.flatMap((h, i) => {
      const key = sshd[i]?.hostKey.publicLine;
      return key ? [{ alias: h.name, address: h.address, hostKeyLine: key }] : [];
    });
    writeFileSync(knownHosts, entries.length > 0 ? knownHostsText(entries) : '');
    writeFileSync(sshConfig, sshConfigText(names.hosts.map((h) => ({ alias: h.name, address: h.address })), client.privatePath, knownHosts));

    await Promise.all(hosts.map((h) => h.powerOn()));
    const [a, b] = hosts;
    if (!a || !b) throw new Error('lab hosts missing');
    const lab = new Lab(claim, [a, b], { dataRoot, sshConfig, knownHosts, identity: client.privatePath }, keep);
    registerLab(lab);
    return lab;
  } catch (err) {
    try {
      teardown(claim, hosts, keep ? undefined : dataRoot);
    } catch (cleanupErr) {
      process.stderr.write(`${(cleanupErr as Error).message}\n`);
    }
    throw err;
  }
}
