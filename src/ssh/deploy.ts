// Installing and starting the agent on a host over an SSH connection, idempotently: a
// running daemon of our version is used as it is (no exec at all for a root login); else
// the bundle is uploaded over SFTP to a versioned path (temp name, sha256 checked on the
// host, rename), linked as `drbd-agent` on the host's PATH, Node is checked, and the daemon
// is started to outlive the session —
// a systemd unit where systemd is PID 1, else a detached process with a pid file. A daemon
// of another version is replaced only with the operator's consent.
// The decisions (probe parsing, paths, scripts) are pure functions; ensureAgent runs them.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from 'ssh2';
import type { AgentSnapshot } from '../../agent/protocol/messages.js';
import { AGENT_VERSION } from '../../agent/protocol/version.js';
import { AgentNotRunning, busyResources, openAgentChannel, type AgentChannel } from './agent-channel.js';
import { shq, sshExec } from './exec.js';
import { ADMIN_SOCKET, MONITOR_GROUP, monitorSocketPath } from '../../agent/protocol/socket-paths.js';

export const INSTALL_ROOT = '/var/lib/drbd-tui/agent';
export const PID_FILE = '/run/drbd-tui/agent.pid';
export const LOG_FILE = '/var/lib/drbd-tui/agent.log';
export const UNIT_NAME = 'drbd-agent.service';
export const UNIT_PATH = `/etc/systemd/system/${UNIT_NAME}`;
export const MIN_NODE_MAJOR = 20;
/** Where `drbd-agent` is found by root's and sudo's PATH (Debian's secure_path has it). */
export const PATH_LINK = '/usr/local/sbin/drbd-agent';

export class DeployError extends Error {
  constructor(
    readonly kind: 'node' | 'sudo' | 'upload' | 'start' | 'version-mismatch' | 'foreign-daemon',
    message: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

export interface LocalAgent {
  path: string;
  data: Buffer;
  sha256: string;
  version: string;
}

/** dist/agent.mjs beside the bundled console, or from the source tree (tsx, tests). */
export function findAgentBundle(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'agent.mjs'), join(here, '..', 'agent.mjs'), join(here, '..', '..', 'dist', 'agent.mjs')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new DeployError('upload', `the agent bundle is missing (looked in ${candidates.join(', ')}): run npm run build`);
  return found;
}

export async function loadLocalAgent(path = findAgentBundle()): Promise<LocalAgent> {
  const data = await readFile(path);
  return { path, data, sha256: createHash('sha256').update(data).digest('hex'), version: AGENT_VERSION };
}

/** Versioned by version and content, so two builds of one version never overwrite each other. */
export function remoteAgentPath(a: Pick<LocalAgent, 'version' | 'sha256'>): string {
  return `${INSTALL_ROOT}/${a.version}-${a.sha256.slice(0, 12)}/agent.mjs`;
}

export interface RemoteFacts {
  uid: number;
  nodePath?: string;
  nodeVersion?: string;
  systemd: boolean;
  /** Non-root logins only. */
  sudo?: 'ok' | 'password' | 'absent';
  /** sha256 of the file at the versioned path, when it exists. */
  installedSha?: string;
  /** Pid in the pid file, when the process is alive. */
  pid?: number;
}

/** One round trip that tells us everything deploying needs. Read-only on the host. */
export function probeScript(agentPath: string): string {
  return [
    'u=$(id -u); echo "uid=$u"',
    'n=$(command -v node 2>/dev/null || true)',
    'for c in /usr/bin/node /usr/local/bin/node /opt/node/bin/node; do [ -z "$n" ] && [ -x "$c" ] && n=$c; done',
    'echo "node=$n"',
    '[ -n "$n" ] && echo "nodeVersion=$("$n" --version 2>/dev/null)"',
    '[ -d /run/systemd/system ] && echo systemd=1 || echo systemd=0',
    'S=',
    'if [ "$u" != 0 ]; then if command -v sudo >/dev/null 2>&1; then if sudo -n true 2>/dev/null; then echo sudo=ok; S="sudo -n"; else echo sudo=password; fi; else echo sudo=absent; fi; fi',
    `echo "installed=$($S sha256sum ${shq(agentPath)} 2>/dev/null | cut -d' ' -f1)"`,
    `p=$($S cat ${PID_FILE} 2>/dev/null); [ -n "$p" ] && $S kill -0 "$p" 2>/dev/null && echo "pid=$p"`,
    'true',
  ].join('\n');
}

export function parseProbe(text: string): RemoteFacts {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const uid = Number(kv.get('uid'));
  if (!Number.isInteger(uid)) throw new DeployError('start', `cannot read the host's facts (is the login shell POSIX sh?):\n${text.slice(0, 400)}`);
  const sudo = kv.get('sudo');
  const pid = Number(kv.get('pid'));
  return {
    uid,
    nodePath: kv.get('node') || undefined,
    nodeVersion: kv.get('nodeVersion') || undefined,
    systemd: kv.get('systemd') === '1',
    sudo: sudo === 'ok' || sudo === 'password' || sudo === 'absent' ? sudo : undefined,
    installedSha: /^[0-9a-f]{64}$/.test(kv.get('installed') ?? '') ? kv.get('installed') : undefined,
    pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
  };
}

const NODE_HELP =
  'Install Node.js 20 or newer on the host: Debian 13 / Ubuntu 24.04: apt install nodejs; ' +
  'older releases: the NodeSource packages (https://github.com/nodesource/distributions) or a binary from https://nodejs.org/en/download';

/** Why this host cannot run the agent, or undefined. Pure. */
export function hostProblem(f: RemoteFacts, host: string): DeployError | undefined {
  if (!f.nodePath) return new DeployError('node', `${host}: Node.js is not installed (no node in PATH). ${NODE_HELP}`);
  const major = Number(/^v(\d+)\./.exec(f.nodeVersion ?? '')?.[1]);
  if (!(major >= MIN_NODE_MAJOR)) return new DeployError('node', `${host}: Node.js ${f.nodeVersion ?? '(unknown version)'} at ${f.nodePath} is too old; the agent needs ${MIN_NODE_MAJOR} or newer. ${NODE_HELP}`);
  if (f.uid !== 0 && f.sudo === 'absent') return new DeployError('sudo', `${host}: the login user is not root and sudo is not installed: log in as root (User root in ssh_config) or install sudo`);
  if (f.uid !== 0 && f.sudo === 'password') {
    return new DeployError('sudo', `${host}: sudo needs a password for the login user; drbd-tui runs sudo -n (never types passwords): allow NOPASSWD for it in /etc/sudoers.d/, or log in as root`);
  }
  return undefined;
}

export function systemdUnit(nodePath: string, agentPath: string): string {
  return [
    '[Unit]',
    'Description=drbd-tui agent (replication engine and iSCSI target)',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    `ExecStart=${nodePath} ${agentPath} daemon`,
    'Restart=on-failure',
    'RestartSec=2',
    // Stopping the daemon must not take the resources down with a SIGKILL mid-write.
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Copies the staged upload into place: temp name in the target dir, sha256 check, rename. */
export function installScript(stage: string, agentPath: string, sha256: string): string {
  const dir = dirname(agentPath);
  const tmp = `${dir}/.agent.mjs.${randomBytes(4).toString('hex')}.tmp`;
  return [
    'set -e',
    `mkdir -p -m 0755 ${shq(dir)}`,
    `cp ${shq(stage)} ${shq(tmp)}`,
    `rm -f ${shq(stage)}`,
    `sum=$(sha256sum ${shq(tmp)} | cut -d' ' -f1)`,
    `if [ "$sum" != ${sha256} ]; then rm -f ${shq(tmp)}; echo "sha256 mismatch after upload: got $sum, want ${sha256}" >&2; exit 3; fi`,
    `chmod 0755 ${shq(tmp)}`,
    `mv -f ${shq(tmp)} ${shq(agentPath)}`,
    'set +e',
  ].join('\n');
}

/**
 * `drbd-agent` on the host's PATH, so that the commands the console shows can be typed there as
 * they are: a wrapper beside the deployed bundle (it names the node the probe found, which may be
 * off PATH), linked from PATH_LINK under a temp name and renamed over the old link, so an upgrade
 * swaps it in one step. A file there that is not a link is not ours: kept, and said. Never fails
 * the deploy: it prints `path-link=ok|foreign|failed`.
 */
export function pathLinkScript(nodePath: string, agentPath: string, link = PATH_LINK): string {
  const wrapper = `${dirname(agentPath)}/drbd-agent`;
  const tmp = `${dirname(link)}/.drbd-agent.${randomBytes(4).toString('hex')}.tmp`;
  return [
    `if [ -e ${shq(link)} ] && [ ! -L ${shq(link)} ]; then echo path-link=foreign; else`,
    `cat > ${shq(wrapper + '.tmp')} <<'DRBD_TUI_WRAPPER'\n#!/bin/sh\nexec ${shq(nodePath)} ${shq(agentPath)} "$@"\nDRBD_TUI_WRAPPER`,
    `if chmod 0755 ${shq(wrapper + '.tmp')} && mv -f ${shq(wrapper + '.tmp')} ${shq(wrapper)} && mkdir -p ${shq(dirname(link))} && ln -sf ${shq(wrapper)} ${shq(tmp)} && mv -f ${shq(tmp)} ${shq(link)}; then echo path-link=ok; else rm -f ${shq(tmp)}; echo path-link=failed; fi`,
    'fi',
  ].join('\n');
}

/** Stops a daemon we started earlier and starts ours so that it outlives this SSH session. */
export function startScript(f: Pick<RemoteFacts, 'systemd'>, nodePath: string, agentPath: string, socket = ADMIN_SOCKET): string {
  const ro = monitorSocketPath(socket);
  // The monitor socket's default access (agent --monitor-access group): a group the operator
  // adds users to, made here as a package's postinst would; no user is added to it.
  const group = `getent group ${MONITOR_GROUP} >/dev/null 2>&1 || groupadd --system ${MONITOR_GROUP} >/dev/null 2>&1 || true`;
  const waitSocket = [
    `i=0; while [ $i -lt 750 ]; do [ -S ${shq(ro)} ] && exit 0; i=$((i+1)); sleep 0.02; done`,
    `echo "the agent did not open ${ro} within 15 s" >&2; tail -n 20 ${LOG_FILE} >&2 2>/dev/null; exit 5`,
  ];
  if (f.systemd) {
    return [
      group,
      'set -e',
      `cat > ${UNIT_PATH}.tmp <<'DRBD_TUI_UNIT'\n${systemdUnit(nodePath, agentPath)}DRBD_TUI_UNIT`,
      `mv -f ${UNIT_PATH}.tmp ${UNIT_PATH}`,
      'systemctl daemon-reload',
      `systemctl enable ${UNIT_NAME} >/dev/null 2>&1`,
      `rm -f ${shq(ro)}`,
      `systemctl restart ${UNIT_NAME}`,
      'set +e',
      ...waitSocket,
    ].join('\n');
  }
  return [
    group,
    `mkdir -p ${dirname(PID_FILE)} ${dirname(LOG_FILE)}`,
    `p=$(cat ${PID_FILE} 2>/dev/null)`,
    'if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill "$p"; i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 500 ]; do i=$((i+1)); sleep 0.02; done; kill -9 "$p" 2>/dev/null; fi',
    `rm -f ${shq(ro)}`,
    // setsid: no controlling terminal or session of sshd's; nohup: SIGHUP when sshd goes.
    `setsid nohup ${shq(nodePath)} ${shq(agentPath)} daemon --socket ${shq(socket)} >> ${LOG_FILE} 2>&1 < /dev/null &`,
    `echo $! > ${PID_FILE}`,
    `i=0; while [ $i -lt 750 ]; do [ -S ${shq(ro)} ] && exit 0; kill -0 $! 2>/dev/null || break; i=$((i+1)); sleep 0.02; done`,
    `echo "the agent did not start:" >&2; tail -n 20 ${LOG_FILE} >&2 2>/dev/null; exit 5`,
  ].join('\n');
}

/** `sh -c SCRIPT`, under `sudo -n` for non-root logins. */
function asRoot(f: Pick<RemoteFacts, 'uid'>, script: string): string {
  return `${f.uid === 0 ? '' : 'sudo -n '}sh -c ${shq(script)}`;
}

export interface ReplaceRequest {
  host: string;
  running: string;
  wanted: string;
  /** Resources that serve initiators right now; replacing restarts the daemon under them. */
  busy: string[];
}

export interface DeployOptions {
  host: string;
  /** The login user (from the resolved config); root skips the probe when all is well. */
  user: string;
  readOnly?: boolean;
  local?: LocalAgent;
  /** Asked before replacing a daemon of another version; absent: refuse. */
  confirmReplace?: (r: ReplaceRequest) => Promise<boolean>;
  /** Progress lines for the console's log ("uploading agent 0.1.0 to ha-a"). */
  log?: (line: string) => void;
  socket?: string;
}

export interface DeployResult {
  channel: AgentChannel;
  uploaded: boolean;
  started: boolean;
  replaced?: { from: string; to: string };
  /** Where the agent lives on the host (undefined when a running daemon was used as is). */
  agentPath?: string;
  facts?: RemoteFacts;
}

async function tryChannel(ssh: Client, opts: { readOnly: boolean; sudo?: boolean; nodePath?: string; socket?: string }): Promise<AgentChannel | undefined> {
  try {
    return await openAgentChannel(ssh, { readOnly: opts.readOnly, sudo: opts.sudo, nodePath: opts.nodePath, socket: opts.socket });
  } catch (e) {
    if (e instanceof AgentNotRunning) return undefined;
    throw e;
  }
}

interface Sftp {
  write(path: string, data: Buffer): Promise<void>;
  end(): void;
}

/** Opens the SFTP session early (it costs a round trip and a fork on the host); used only if needed. */
function openSftp(ssh: Client): Promise<Sftp> {
  return new Promise((resolve, reject) => {
    ssh.sftp((err, sftp) => {
      if (err) return reject(new DeployError('upload', `SFTP is not available: ${err.message} (Subsystem sftp in sshd_config)`));
      resolve({
        write: (path, data) =>
          new Promise<void>((res, rej) =>
            sftp.writeFile(path, data, { mode: 0o600 }, (e) => (e ? rej(new DeployError('upload', `upload to ${path} failed: ${e.message}`)) : res())),
          ),
        end: () => sftp.end(),
      });
    });
  });
}

/**
 * Makes sure our agent runs on the host and returns an open control channel to it (admin,
 * or monitor with readOnly — which never uploads, starts or stops anything and rejects
 * with AgentNotRunning when no daemon listens).
 */
export async function ensureAgent(ssh: Client, opts: DeployOptions): Promise<DeployResult> {
  const log = opts.log ?? (() => undefined);
  if (opts.readOnly) {
    const channel = await openAgentChannel(ssh, { readOnly: true, socket: opts.socket });
    return { channel, uploaded: false, started: false };
  }
  const local = opts.local ?? (await loadLocalAgent());
  // Fast path: root reaches the admin socket directly; a daemon of our version is all we need.
  let running: AgentChannel | undefined;
  if (opts.user === 'root') {
    running = await tryChannel(ssh, { readOnly: false, socket: opts.socket });
    if (running && running.hello.agentVersion === local.version) return { channel: running, uploaded: false, started: false };
  }
  const agentPath = remoteAgentPath(local);
  const sftpP = openSftp(ssh);
  sftpP.catch(() => undefined); // reported where it is needed
  try {
    return await deploy(ssh, opts, local, agentPath, running, sftpP, log);
  } finally {
    void sftpP.then((s) => s.end(), () => undefined);
  }
}

async function deploy(
  ssh: Client,
  opts: DeployOptions,
  local: LocalAgent,
  agentPath: string,
  runningAdmin: AgentChannel | undefined,
  sftpP: Promise<Sftp>,
  log: (l: string) => void,
): Promise<DeployResult> {
  let running = runningAdmin;
  const probe = await sshExec(ssh, probeScript(agentPath), { timeoutMs: 20_000 });
  const facts = parseProbe(probe.stdout);
  const problem = hostProblem(facts, opts.host);
  if (problem) {
    running?.close();
    throw problem;
  }
  const nodePath = facts.nodePath!;
  const sudo = facts.uid !== 0;
  if (!running) {
    // Who is there? The monitor socket answers hello to root, its group and (through sudo) a sudo login.
    const ro = await tryChannel(ssh, { readOnly: true, sudo, nodePath, socket: opts.socket });
    if (ro) {
      if (ro.hello.agentVersion === local.version) {
        ro.close();
        running = await openAgentChannel(ssh, { readOnly: false, sudo, nodePath, socket: opts.socket });
        return { channel: running, uploaded: false, started: false, facts };
      }
      running = ro;
    }
  }
  let replaced: DeployResult['replaced'];
  if (running) {
    const from = running.hello.agentVersion;
    const snap = await running.client.request<AgentSnapshot>('snapshot').catch(() => undefined);
    running.close();
    const busy = snap ? busyResources(snap) : [];
    log(`${opts.host}: agent ${from} is running; this console brings ${local.version}`);
    const ok = opts.confirmReplace ? await opts.confirmReplace({ host: opts.host, running: from, wanted: local.version, busy }) : false;
    if (!ok) {
      const why = busy.length > 0 ? ` It is serving ${busy.join(', ')}: restarting it would pause I/O for those initiators.` : '';
      throw new DeployError(
        'version-mismatch',
        `${opts.host}: agent ${from} is running, this console needs ${local.version}; not replaced without your consent.${why} Use a console of version ${from}, or allow the replacement.`,
      );
    }
    if (!facts.systemd && facts.pid === undefined) {
      throw new DeployError('foreign-daemon', `${opts.host}: agent ${from} is running but was not started by drbd-tui (no ${PID_FILE}): stop it on the host, then connect again`);
    }
    replaced = { from, to: local.version };
  }
  let uploaded = false;
  let script = '';
  if (facts.installedSha !== local.sha256) {
    log(`${opts.host}: uploading agent ${local.version} to ${agentPath}`);
    const stage = `/tmp/drbd-tui-agent.${randomBytes(6).toString('hex')}.mjs`;
    await (await sftpP).write(stage, local.data);
    script = installScript(stage, agentPath, local.sha256) + '\n';
    uploaded = true;
  }
  log(`${opts.host}: starting agent ${local.version}${facts.systemd ? ` (systemd unit ${UNIT_NAME})` : ''}`);
  // One exec for install and start: each exec is a round trip and a fork on the host.
  script += pathLinkScript(nodePath, agentPath) + '\n' + startScript(facts, nodePath, agentPath, opts.socket);
  const r = await sshExec(ssh, asRoot(facts, script), { timeoutMs: 60_000 });
  if (r.code === 3) throw new DeployError('upload', `${opts.host}: installing the agent failed: ${r.stderr.trim()}`);
  if (r.code !== 0) throw new DeployError('start', `${opts.host}: starting the agent failed (exit ${r.code}): ${r.stderr.trim()}`);
  const linked = /^path-link=(\w+)$/m.exec(r.stdout)?.[1];
  if (linked === 'foreign') log(`${opts.host}: ${PATH_LINK} is not drbd-tui's link: left as it is; the agent is ${dirname(agentPath)}/drbd-agent`);
  if (linked === 'failed') log(`${opts.host}: could not link ${PATH_LINK} to the agent; it is ${dirname(agentPath)}/drbd-agent`);
  const channel = await openAgentChannel(ssh, { readOnly: false, sudo, nodePath, socket: opts.socket });
  if (channel.hello.agentVersion !== local.version) {
    channel.close();
    throw new DeployError('start', `${opts.host}: started agent ${local.version} but agent ${channel.hello.agentVersion} answers`);
  }
  return { channel, uploaded, started: true, replaced, agentPath, facts };
}
