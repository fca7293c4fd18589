// `drbd-agent daemon`: owns the resources of this host. It loads the resource files, keeps
// every resource that is up running (replication goes on when no console is attached),
// serves the control sockets, and brings back after a restart the resources that were up.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, extname, join } from 'node:path';
import { CONFIG_EXTENSIONS, errorsForResource, formatConfigError, loadConfigDir, localHost, parseResourceRes, parseResourceYaml } from './config/index.js';
import { readBounded, describeFsError, loadConfigFile } from './config/load.js';
import { exposedSecretsMode, secretFileWarning } from './config/file-mode.js';
import { writeFileAtomic } from './atomic-file.js';
import { filesOfResource, keepAside, resourceNameProblem, sha256Hex, targetFile } from './config/resource-files.js';
import type { ConfigError, HostConfig, IscsiConfig, ResourceConfig } from './config/types.js';
import { openBackingDisk } from './block/backing-disk.js';
import { probeDisk } from './engine/disk-probe.js';
import { nodeIdHosts, numberedByMetadata } from './engine/node-ids.js';
import { createMdNodeId } from './engine/node-id-decision.js';
import { judgeNotUp } from './protocol/not-up.js';
import { validRunbookPut } from './runbook-input.js';
import { RunbookStore, runPosition } from './runbook-store.js';
import { createMetadata, MetadataError } from './engine/metadata.js';
import { forgetActivityLogState } from './engine/activity-log.js';
import { ResourceRuntime } from './engine/resource-runtime.js';
import { restoreSplitBrainCopy, splitBrainCopies } from './split-brain-restore.js';
import { createMdRefusal, forcePrimaryRefusal, type LocalVolume } from './data-refusals.js';
import type { LinkFaults } from './engine/link-faults.js';
import { forgetPeerMemory, readPeerMemory, writePeerMemory } from './engine/peer-memory-file.js';
import { readMetadata, toGenerationIds } from './engine/metadata.js';
import { IscsiTarget } from './iscsi/target.js';
import { ServiceAddressKeeper } from './iscsi/service-address-keeper.js';
import { diffSnapshots, snapshotToEvents } from './protocol/events2.js';
import { serveControl, type ControlHandler, type ControlServer } from './control/server.js';
import type { MonitorAccess } from './control/monitor-access.js';
import {
  AgentError,
  PROTOCOL_VERSION,
  type AdjustResult,
  type AgentSnapshot,
  type ConfigGetResult,
  type ConfigPutResult,
  type ConnectResult,
  type HelloResult,
  type Method,
  type NotUpResource,
  type ResizeResult,
  type RunbookLogResult,
  type RunbookPutResult,
  type StateEvent,
  type TargetSnapshot,
} from './protocol/messages.js';
import { AGENT_VERSION } from './protocol/version.js';
import { logLine } from './log.js';
import { ADMIN_SOCKET } from './protocol/socket-paths.js';
import { formatUuid } from './engine/uuid.js';

export interface DaemonOptions {
  configDir: string;
  /** --config FILE: read this one file (a YAML resource file, or /etc/drbd.conf with its includes) instead of configDir. */
  configFile?: string;
  stateDir: string;
  socket: string;
  node: string;
  /** Who may open the monitor socket (--monitor-access); default: the drbd-tui group. */
  monitorAccess?: MonitorAccess;
  /** Test hook from the daemon's environment only (link-faults.ts); absent in production. */
  linkFaults?: LinkFaults;
}

export const DEFAULT_DAEMON_OPTIONS: DaemonOptions = {
  configDir: '/etc/drbd-tui',
  stateDir: '/var/lib/drbd-tui',
  socket: ADMIN_SOCKET,
  node: hostname(),
};

/** events2 timestamps: ISO 8601 with microseconds and the local offset, as drbdsetup prints them. */
export function eventTime(d = new Date()): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const local = new Date(d.getTime() + off * 60000);
  return `${local.toISOString().slice(0, 23)}000${sign}${pad(Math.trunc(off / 60))}:${pad(off % 60)}`;
}

interface Subscriber {
  send: (events: StateEvent[]) => void;
  statistics: boolean;
  last: AgentSnapshot;
}

/**
 * How long `connect --discard-my-data` waits to answer where the victim's blocks were kept: for
 * the peer to answer at all, and in all while a handshake keeps the copy (at most 1 GiB).
 */
const CONNECT_DISCARD_WAIT = { peerMs: 1500, maxMs: 60_000 };

/** The shortest interval between two event batches caused by engine changes. */
const PUBLISH_MS = 20;

/** The commands after which what is up, or why a resource is not, may differ: each sends the disks of the rest a look. */
const CHANGES_WHAT_IS_UP: ReadonlySet<Method> = new Set<Method>(['create-md', 'up', 'down', 'attach', 'detach', 'adjust', 'config-put', 'resize']);

export class Daemon implements ControlHandler {
  private readonly runtimes = new Map<string, ResourceRuntime>();
  private readonly targets = new Map<string, IscsiTarget>();
  private readonly serviceAddresses = new ServiceAddressKeeper((resource, line) => logLine(`${resource ? `${resource}: ` : ''}${line}`));
  private configs: ResourceConfig[] = [];
  private configErrors: ConfigError[] = [];
  /** Resources known here but not up, as last diagnosed (see diagnose). */
  private notUp: NotUpResource[] = [];
  private diagnoses = 0;
  /** Why the last attempt to bring a resource up failed, until it is up or taken down. */
  private readonly upErrors = new Map<string, string>();
  private readonly subscribers = new Set<Subscriber>();
  private server?: ControlServer;
  private statsTimer?: NodeJS.Timeout;
  private publishTimer?: NodeJS.Timeout;
  private lastPublish = 0;
  /** Admin commands run one at a time per resource, like drbdsetup's state-change lock. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly runbooks: RunbookStore;

  constructor(readonly opts: DaemonOptions) {
    this.runbooks = new RunbookStore(join(opts.stateDir, 'runbooks'), undefined, (msg) => logLine(`warn: ${msg}`));
  }

  private get upDir(): string {
    return join(this.opts.stateDir, 'up');
  }

  async start(): Promise<void> {
    await mkdir(this.upDir, { recursive: true, mode: 0o700 });
    await this.runbooks.load();
    await this.reloadConfig();
    this.server = await serveControl(this.opts.socket, this, {
      monitorAccess: this.opts.monitorAccess ?? 'group',
      log: (line) => process.stderr.write(`drbd-agent: ${line}\n`),
    });
    // Resources that were up when the daemon last stopped (or crashed) come back up.
    for (const name of await readdir(this.upDir).catch(() => [] as string[])) {
      await this.up(name).catch((e: Error) => logLine(`cannot bring ${name} back up: ${e.message}`));
    }
    // No target runs yet: a service address held here was left by a crash, and would draw initiators to a host that does not serve.
    for (const cfg of this.configs) await this.settleServiceAddress(cfg.resource, 'no target runs here (left by a crash or an unclean stop)');
    if (this.configs.some((c) => c.iscsi?.serviceAddress)) await this.watchServiceAddresses();
    await this.diagnose();
    this.statsTimer = setInterval(() => this.publish(true), 1000);
    this.statsTimer.unref();
  }

  async stop(): Promise<void> {
    this.serviceAddresses.stopWatching();
    clearInterval(this.statsTimer);
    clearTimeout(this.publishTimer);
    await this.server?.close();
  }

  private async reloadConfig(): Promise<void> {
    const opts = { node: this.opts.node };
    const { resources, errors } = this.opts.configFile ? await loadConfigFile(this.opts.configFile, opts) : await loadConfigDir(this.opts.configDir, opts);
    this.configs = resources;
    this.configErrors = errors;
    for (const c of resources) {
      const warning = secretFileWarning(c.resource, c.source.file, exposedSecretsMode(c), c.source.secretFile);
      const key = `${c.source.file} ${warning ?? ''}`;
      if (warning && !this.saidExposed.has(key)) logLine(`warn: ${warning}`);
      if (warning) this.saidExposed.add(key);
    }
  }

  /** File-mode warnings already logged: once per file and mode, not at every reload. */
  private readonly saidExposed = new Set<string>();

  /**
   * Looks at every resource known here that is not up: its file, this host's entry, each backing
   * disk and its metadata (reads only). Run after each command and config reload, not on a timer:
   * what it finds changes with what operators do. The newest run wins when two overlap.
   */
  private async diagnose(): Promise<void> {
    const run = ++this.diagnoses;
    const out: NotUpResource[] = [];
    for (const cfg of this.configs) {
      if (this.runtimes.has(cfg.resource)) continue;
      const local = localHost(cfg, this.opts.node);
      const upError = this.upErrors.get(cfg.resource);
      const base = { name: cfg.resource, file: cfg.source.file, upError };
      if ('error' in local) {
        out.push(judgeNotUp({ ...base, notAHost: local.error, volumes: cfg.volumes.map((v) => ({ volume: v.volume, disk: v.disk, sizeSet: false, probe: { kind: 'ok' } })) }));
        continue;
      }
      const nodeId = await this.metadataNodeId(cfg, local.host);
      const volumes = [];
      for (const v of cfg.volumes) {
        const probe = typeof nodeId === 'number' ? await probeDisk(v.disk, nodeId) : { kind: 'bad-metadata' as const, problem: 'other-node' as const, message: nodeId.refused };
        volumes.push({ volume: v.volume, disk: v.disk, sizeSet: v.size !== undefined, probe });
      }
      out.push(judgeNotUp({ ...base, volumes }));
    }
    for (const e of this.configErrors) {
      const name = resourceOfError(e);
      if (name === undefined || this.runtimes.has(name) || out.some((n) => n.name === name)) continue;
      out.push(judgeNotUp({ name, file: e.file, configError: e, volumes: [], upError: this.upErrors.get(name) }));
    }
    if (run === this.diagnoses) this.notUp = out.sort((a, b) => a.name.localeCompare(b.name));
  }

  private config(name: string): ResourceConfig {
    const c = this.configs.find((r) => r.resource === name);
    if (c) return c;
    const errs = errorsForResource(name, this.configErrors);
    if (errs.length > 0) throw new AgentError('config', errs.map(formatConfigError).join('\n'));
    throw new AgentError('not-found', `${name}: No such resource (no resource file for it in ${this.opts.configDir})`);
  }

  private runtime(name: string): ResourceRuntime {
    const rt = this.runtimes.get(name);
    if (!rt) {
      this.config(name);
      throw new AgentError('refused', `${name}: resource is not up (run: drbd-agent up ${name})`);
    }
    return rt;
  }

  // ---------------------------------------------------------------- ControlHandler

  hello(readOnly: boolean): HelloResult {
    return {
      agentVersion: AGENT_VERSION,
      protocol: PROTOCOL_VERSION,
      node: this.opts.node,
      readOnly,
      capabilities: ['events2', 'status-json', 'engine:builtin', 'not-up', 'split-brain-copies', 'runbooks', 'config-mode', 'peer-auth', 'ignored-options'],
    };
  }

  snapshot(): AgentSnapshot {
    return {
      node: this.opts.node,
      agentVersion: AGENT_VERSION,
      resources: [...this.runtimes.values()].map((r) => r.snapshot()).sort((a, b) => a.name.localeCompare(b.name)),
      configErrors: this.configErrors.map((e) => ({ ...e })),
      notUp: this.notUp.filter((n) => !this.runtimes.has(n.name)),
      runbooks: this.runbooks.records(),
    };
  }

  subscribe(send: (events: StateEvent[]) => void, opts: { statistics: boolean }): () => void {
    const last = this.snapshot();
    const sub: Subscriber = { send, statistics: opts.statistics, last };
    send(snapshotToEvents(last, { time: eventTime(), statistics: opts.statistics }));
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }

  /**
   * Engine changes come up to once per event-loop turn, thousands a second under iSCSI load,
   * and a snapshot each cost the write path about a tenth of its throughput with a console
   * attached: subscribers hear at once, then at most every PUBLISH_MS (changes in between
   * arrive together, the newest state always).
   */
  private publishSoon(): void {
    if (this.subscribers.size === 0 || this.publishTimer) return;
    const wait = this.lastPublish + PUBLISH_MS - performance.now();
    if (wait <= 0) return this.publish();
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      this.publish();
    }, wait);
  }

  /** Sends each subscriber what changed since it last heard; statistics-only changes once a second. */
  private publish(statisticsTick = false): void {
    if (this.subscribers.size === 0) return;
    // A direct publish to every subscriber covers what a pending one would have sent.
    if (!statisticsTick) {
      clearTimeout(this.publishTimer);
      this.publishTimer = undefined;
    }
    this.lastPublish = performance.now();
    const now = this.snapshot();
    const time = eventTime();
    // Subscribers that heard the same state get the same batch, computed once (and encoded once,
    // control/server.ts): the cost to the write path does not grow with the number of subscribers.
    const batches = new Map<AgentSnapshot, Map<boolean, StateEvent[]>>();
    for (const sub of this.subscribers) {
      if (statisticsTick && !sub.statistics) continue;
      const byStats = batches.get(sub.last) ?? new Map<boolean, StateEvent[]>();
      batches.set(sub.last, byStats);
      let events = byStats.get(sub.statistics);
      if (!events) {
        events = diffSnapshots(sub.last, now, { time, statistics: sub.statistics });
        byStats.set(sub.statistics, events);
      }
      sub.last = now;
      if (events.length > 0) sub.send(events);
    }
  }

  async call(method: Method, params: Record<string, unknown>): Promise<unknown> {
    if (method === 'runbook-put') return this.runbookPut(params);
    if (method === 'runbook-log') return this.runbookLog(params);
    const name = typeof params.resource === 'string' ? params.resource : '';
    if (method === 'adjust' && !name) {
      await this.reloadConfig();
      await this.diagnose();
      this.publish();
      return { ok: true };
    }
    // Reads the state dir only: no lock, and a resource that is down has its copies too.
    if (method === 'split-brain-copies') return { copies: await splitBrainCopies(this.opts.stateDir, name || undefined) };
    if (!name) throw new AgentError('bad-request', `${method} needs a resource name`);
    const prev = this.locks.get(name) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.callLocked(method, name, params));
    this.locks.set(name, run.catch(() => undefined));
    try {
      return await run;
    } finally {
      // The state change reaches subscribers before the answer does (the console relies on it);
      // what the command changed about the resources that are not up follows a moment later.
      this.publish();
      if (CHANGES_WHAT_IS_UP.has(method)) {
        void this.diagnose().then(
        () => this.publish(),
          (e: Error) => logLine(`warn: cannot look at the resources that are not up: ${e.message}`),
        );
      }
    }
  }

  private async callLocked(method: Method, name: string, p: Record<string, unknown>): Promise<unknown> {
    const force = p.force === true;
    const forgetPeer = force && p.forgetPeer === true;
    switch (method) {
      case 'create-md':
        return this.createMd(name, force, forgetPeer);
      case 'up':
        return this.up(name);
      case 'attach':
        await this.attach(name);
        return { ok: true };
      case 'down':
      case 'detach':
        return this.down(name);
      case 'primary':
        return this.primary(name, force, forgetPeer);
      case 'secondary': {
        const result = await this.runtime(name).admin({ cmd: 'secondary' });
        await this.settleServiceAddress(name, 'demoted');
        return result;
      }
      case 'connect':
        if (p.discardMyData !== true) return this.runtime(name).admin({ cmd: 'connect', discardMyData: false });
        return { ok: true, message: await this.runtime(name).connectDiscarding(p.skipBackup === true, CONNECT_DISCARD_WAIT) } satisfies ConnectResult;
      case 'disconnect':
        return this.runtime(name).admin({ cmd: 'disconnect' });
      case 'new-current-uuid':
        return this.runtime(name).admin({ cmd: 'new-current-uuid', clearBitmap: p.clearBitmap === true });
      case 'pause-sync':
        return this.runtime(name).admin({ cmd: 'pause-sync' });
      case 'resume-sync':
        return this.runtime(name).admin({ cmd: 'resume-sync' });
      case 'invalidate':
        return this.runtime(name).admin({ cmd: 'invalidate' });
      case 'verify':
        return this.runtime(name).admin({ cmd: 'verify' });
      case 'target-start':
        return this.targetStart(name);
      case 'target-stop':
        return this.targetStop(name);
      case 'config-get':
        return this.configGet(name);
      case 'config-put':
        return this.configPut(name, p);
      case 'adjust':
        return this.adjust(name);
      case 'resize':
        return { ok: true, volumes: await this.runtime(name).resize() } satisfies ResizeResult;
      case 'split-brain-restore': {
        if (typeof p.copy !== 'string' || (p.volume !== undefined && typeof p.volume !== 'number')) throw new AgentError('bad-request', 'split-brain-restore needs copy (an id from split-brain-copies) and optionally volume (a number)');
        return restoreSplitBrainCopy(this.runtime(name), this.opts.stateDir, { copy: p.copy, volume: p.volume, yes: p.yes === true });
      }
      default:
        throw new AgentError('bad-request', `${method} is not supported by this agent`);
    }
  }

  /** Stores a console's runbook progress; every console subscribed hears it as a `runbook` event. */
  private async runbookPut(params: Record<string, unknown>): Promise<RunbookPutResult> {
    const p = validRunbookPut(params);
    if ('error' in p) throw new AgentError('bad-request', p.error);
    const result = await this.runbooks.put(p).catch((e: unknown) => {
      if (e instanceof AgentError) throw e;
      throw new AgentError('io', `${this.runbooks.dir}: cannot store the runbook: ${describeFsError(e)}`);
    });
    // What ran and where, never the params as such.
    if (result.stored) logLine(`${p.record.resource}: runbook ${runPosition(p.record)} (seq ${p.record.seq}, by ${p.record.by})`);
    this.publish();
    return result;
  }

  private async runbookLog(params: Record<string, unknown>): Promise<RunbookLogResult> {
    const { resource, limit } = params;
    if ((resource !== undefined && typeof resource !== 'string') || (limit !== undefined && (typeof limit !== 'number' || !Number.isFinite(limit)))) {
      throw new AgentError('bad-request', 'runbook-log takes resource (a name) and limit (a number), both optional');
    }
    return { entries: await this.runbooks.log({ resource, limit }) };
  }

  /**
   * With the peer out of sight the engine cannot know what it holds; the stored memory does.
   * Connected, the engine's own checks see the peer and decide.
   */
  private async primary(name: string, force: boolean, forgetPeer: boolean): Promise<unknown> {
    const rt = this.runtime(name);
    if (force && rt.state.conn !== 'Connected') {
      const local: LocalVolume[] = rt.state.volumes.map((v) => ({
        disk: v.disk,
        current: formatUuid(v.meta.gi.current),
        bitmap: formatUuid(v.meta.gi.bitmap),
        history: v.meta.gi.history.map(formatUuid),
      }));
      const refusal = forcePrimaryRefusal(name, local, rt.state.nodeId, rt.peerMemory);
      if (refusal && !forgetPeer) throw new AgentError('refused', refusal);
      const result = await rt.admin({ cmd: 'primary', force });
      if (refusal) await this.forgetPeer(name, rt, refusal);
      return result;
    }
    return rt.admin({ cmd: 'primary', force });
  }

  private async forgetPeer(name: string, rt: ResourceRuntime | undefined, overridden: string): Promise<void> {
    logLine(`${name}: alert: --forget-peer: the operator overrode: ${overridden}`);
    await forgetPeerMemory(this.opts.stateDir, name);
    rt?.forgetPeer();
  }

  private async createMd(name: string, force: boolean, forgetPeer: boolean): Promise<unknown> {
    await this.reloadConfig();
    if (this.runtimes.has(name)) throw new AgentError('refused', `${name}: resource is up; run drbd-agent down ${name} before create-md`);
    const cfg = this.config(name);
    const local = localHost(cfg, this.opts.node);
    if ('error' in local) throw new AgentError('config', local.error);
    const numbering = createMdNodeId({ resource: name, ...nodeIdHosts(cfg, local.host), peerLastNodeId: (await readPeerMemory(this.opts.stateDir, name))?.peerNodeId });
    const nodeId = numbering.nodeId;
    const overridden = force ? await this.createMdForceRefusal(name, cfg, nodeId) : undefined;
    if (overridden && !forgetPeer) throw new AgentError('refused', overridden);
    const created: string[] = [];
    for (const v of cfg.volumes) {
      const disk = await openBackingDisk(v.disk, v.size !== undefined ? { create: v.size } : {}).catch((e: Error) => {
        throw new AgentError('io', `${v.disk}: ${e.message}${v.size === undefined ? ' (set size: in the resource file to have it created)' : ''}`);
      });
      try {
        forgetActivityLogState(disk);
        await createMetadata(disk, { nodeId, force });
        created.push(v.disk);
      } catch (e) {
        if (e instanceof MetadataError) throw new AgentError('refused', e.message);
        throw e;
      } finally {
        await disk.close();
      }
    }
    // Forgotten only once the wipe it was overridden for is done: a failed one keeps the protection.
    if (overridden) await this.forgetPeer(name, undefined, overridden);
    if (numbering.message) logLine(`${name}: warn: ${numbering.message}`);
    return { ok: true, created };
  }

  /** The refusal of wiping the existing metadata, judged against what the peer was last known to hold. */
  private async createMdForceRefusal(name: string, cfg: ResourceConfig, nodeId: number): Promise<string | undefined> {
    const memory = await readPeerMemory(this.opts.stateDir, name);
    if (!memory) return undefined;
    const none: LocalVolume = { disk: 'Diskless', current: formatUuid(0n), bitmap: formatUuid(0n), history: [] };
    const local: LocalVolume[] = [];
    for (const v of cfg.volumes) {
      const disk = await openBackingDisk(v.disk).catch(() => undefined);
      const md = disk ? await readMetadata(disk).catch(() => null).finally(() => disk.close()) : null;
      const gi = md ? toGenerationIds(md, [memory.peerNodeId]) : undefined;
      local.push(md && gi ? { disk: md.diskState, current: gi.current, bitmap: gi.bitmap[String(memory.peerNodeId)]!, history: gi.history } : none);
    }
    return createMdRefusal(name, local, nodeId, memory);
  }

  private async attach(name: string): Promise<ResourceRuntime> {
    const existing = this.runtimes.get(name);
    if (existing) return existing;
    await this.reloadConfig();
    const cfg = this.config(name);
    const local = localHost(cfg, this.opts.node);
    if ('error' in local) throw new AgentError('config', local.error);
    const rt = await ResourceRuntime.attach(cfg, local.host, this.opts.node, this.opts.linkFaults?.get(name), { stateDir: this.opts.stateDir }).catch((e: Error) => {
      this.upErrors.set(name, e.message);
      throw e;
    });
    this.upErrors.delete(name);
    // Before any await: what attach found (a kept node-id numbering, a recovered journal) is logged on the next turn.
    rt.on('log', (l) => logLine(`${name}: ${l.level}: ${l.text}`));
    rt.peerMemory = await readPeerMemory(this.opts.stateDir, name);
    rt.on('peer-memory', (m) => {
      writePeerMemory(this.opts.stateDir, name, m).catch((e: Error) => logLine(`${name}: warn: cannot store what is known of the peer: ${e.message}`));
    });
    rt.on('change', () => this.publishSoon());
    this.runtimes.set(name, rt);
    if (cfg.iscsi) rt.target = this.targetSnapshot(name, cfg.iscsi);
    await writeFile(join(this.upDir, name), '');
    return rt;
  }

  private async up(name: string): Promise<unknown> {
    const rt = await this.attach(name);
    if (rt.state.conn === 'StandAlone' && !rt.state.splitBrain) await rt.admin({ cmd: 'connect', discardMyData: false });
    return { ok: true };
  }

  /** The one file that defines `name` here (after a fresh read of the config dir), or none. */
  private async resourceFile(name: string): Promise<string | undefined> {
    const problem = resourceNameProblem(name);
    if (problem) throw new AgentError('bad-request', problem);
    await this.reloadConfig();
    const files = filesOfResource(this.opts.configDir, name, { resources: this.configs, errors: this.configErrors });
    if (files.length > 1) throw new AgentError('config', `${name} is defined in ${files.join(' and ')}: keep one file per resource, then try again`);
    return files[0];
  }

  /** The file that defines `name` now, its text and sha256; `text` absent (sha256 '') when there is none. */
  private async configGet(name: string): Promise<ConfigGetResult> {
    const file = await this.resourceFile(name);
    if (!file) return { file: join(this.opts.configDir, `${name}.yaml`), sha256: '' };
    const text = await readBounded(file).catch((e: unknown) => {
      throw new AgentError('io', `${file}: cannot read it: ${describeFsError(e)}`);
    });
    return { file, text, sha256: sha256Hex(text) };
  }

  /**
   * Validates the text with this node's loader (its node name must be one of the hosts) and
   * writes it atomically, mode 0600: the file holds the shared secret. Refused when the file
   * changed since the console read it, so that nobody's edit is overwritten unseen.
   */
  private async configPut(name: string, p: Record<string, unknown>): Promise<ConfigPutResult> {
    const { text, format, expect } = p;
    if (typeof text !== 'string' || (format !== 'yaml' && format !== 'res') || typeof expect !== 'string') {
      throw new AgentError('bad-request', 'config-put needs text, format (yaml or res) and expect (the sha256 config-get returned)');
    }
    // Read as config-get reads it: an unreadable file is an error, never "no file".
    const current = await this.configGet(name);
    const existing = current.text === undefined ? undefined : current.file;
    if (current.sha256 !== expect) {
      throw new AgentError('refused', `${existing ?? name}: the resource file on ${this.opts.node} changed since it was read; look at the difference again`);
    }
    if (this.opts.configFile) throw new AgentError('refused', `this agent reads ${this.opts.configFile} (--config): change the resource there`);
    const shared = existing && this.configs.find((c) => c.source.file === existing && c.resource !== name);
    if (shared) throw new AgentError('refused', `${existing} also defines resource ${shared.resource}: replacing it would drop that resource; move ${name} into a file of its own first`);
    const file = targetFile(this.opts.configDir, name, format, existing);
    const parsed = (format === 'yaml' ? parseResourceYaml : parseResourceRes)(file, text, { node: this.opts.node });
    if ('errors' in parsed) throw new AgentError('config', parsed.errors.map(formatConfigError).join('\n'));
    if (parsed.config.resource !== name) throw new AgentError('config', `${file}: the text defines resource ${parsed.config.resource}, not ${name}`);
    const local = localHost(parsed.config, this.opts.node);
    if ('error' in local) throw new AgentError('config', local.error);
    if (p.check === true) return { file, written: false };
    await writeFileAtomic(file, text, 0o600).catch((e: unknown) => {
      throw new AgentError('io', `${file}: cannot write it: ${describeFsError(e)}`);
    });
    let replaced: ConfigPutResult['replaced'];
    if (existing && existing !== file) replaced = { file: existing, keptAs: await keepAside(existing) };
    // The path and the hash of the meaning only: the text holds secrets.
    logLine(`${name}: resource file written: ${file} (config hash ${parsed.config.source.hash})${replaced ? `, ${replaced.file} kept as ${replaced.keptAs}` : ''}`);
    await this.reloadConfig();
    return { file, written: true, ...(replaced ? { replaced } : {}) };
  }

  /**
   * `drbdadm adjust RES`: the resource as its file says. Re-reads the files; a configured
   * resource that is not up is brought up (attached, connecting) when its disks carry valid
   * metadata, else it stays down and the reason says what is missing (create-md first). The
   * builtin engine cannot change a running resource's settings: an up resource whose file
   * changed reports them pending until its next down/up.
   */
  private async adjust(name: string): Promise<AdjustResult> {
    await this.reloadConfig();
    const cfg = this.config(name);
    const rt = this.runtimes.get(name);
    if (rt) return { ok: true, state: 'up', ...(rt.config.source.hash !== cfg.source.hash ? { pending: true } : {}) };
    const missing = await this.missingMetadata(cfg);
    if (missing) return { ok: true, state: 'down', reason: `${missing}: create-md ${name} first (on each host)` };
    try {
      await this.up(name);
      return { ok: true, state: 'up', broughtUp: true };
    } catch (e) {
      if (e instanceof AgentError && e.code === 'config') throw e;
      return { ok: true, state: 'down', reason: e instanceof Error ? e.message : String(e) };
    }
  }

  /** This node's id as attach would number it (node-ids.ts: the metadata's, for a file without node-ids written under the old numbering), or the refusal. */
  private async metadataNodeId(cfg: ResourceConfig, host: HostConfig): Promise<number | { refused: string }> {
    try {
      return (await numberedByMetadata(cfg, host)).local.nodeId;
    } catch (e) {
      if (e instanceof AgentError) return { refused: e.message };
      throw e;
    }
  }

  /** Why a resource cannot be attached for want of a disk or metadata, in words; undefined when all is there. */
  private async missingMetadata(cfg: ResourceConfig): Promise<string | undefined> {
    const local = localHost(cfg, this.opts.node);
    // Not a host of it, or metadata there but not usable: attaching says why.
    if ('error' in local) return undefined;
    const nodeId = await this.metadataNodeId(cfg, local.host);
    if (typeof nodeId !== 'number') return undefined;
    for (const v of cfg.volumes) {
      const probe = await probeDisk(v.disk, nodeId);
      if (probe.kind === 'missing') return `no backing disk ${v.disk} yet`;
      if (probe.kind === 'no-metadata') return `no metadata on ${v.disk}`;
    }
    return undefined;
  }

  /** The Primary's iSCSI target: volume N is LUN N, portal and IQN from the resource file. */
  private async targetStart(name: string): Promise<unknown> {
    const rt = this.runtime(name);
    const iscsi = rt.config.iscsi;
    if (!iscsi) throw new AgentError('config', `${name}: no iscsi section in ${rt.config.source.file}; add iscsi: { iqn: ..., portal: ... }`);
    if (this.targets.get(name)?.running) return { ok: true };
    if (rt.state.role !== 'Primary') throw new AgentError('refused', `target start refused: ${name} is ${rt.state.role} here; only the Primary serves iSCSI (a Secondary must never serve stale data)`);
    const numbers = rt.config.volumes.map((v) => v.volume);
    const luns = numbers.map((_, lun) => {
      const index = numbers.indexOf(lun);
      if (index < 0) throw new AgentError('config', `${name}: volumes must be numbered 0..${numbers.length - 1} to be LUNs 0..${numbers.length - 1} (got ${numbers.join(', ')})`);
      return rt.blockDevice(index);
    });
    const sa = iscsi.serviceAddress;
    if (sa) await this.watchServiceAddresses();
    const iface = sa ? await this.serviceAddresses.claim(name, sa, { name: rt.peer.name, role: rt.state.peerRole }) : undefined;
    const wildcard = iscsi.portalHost === '0.0.0.0' || iscsi.portalHost === '::';
    const target = new IscsiTarget({
      iqn: iscsi.iqn,
      host: iscsi.portalHost,
      port: iscsi.portalPort,
      ...(sa && !wildcard ? { alsoOn: [sa.address] } : {}),
      luns,
      alias: name,
      chap: iscsi.chap,
      ...(iscsi.allowedInitiators ? { allowedInitiators: iscsi.allowedInitiators } : {}),
      reservations: (lun) => rt.reservationStore(numbers.indexOf(lun)),
      log: (msg) => logLine(`${name}: iscsi: ${msg}`),
    });
    const update = () => {
      rt.target = this.targetSnapshot(name, iscsi, target);
      this.publish();
    };
    target.on('session', update);
    try {
      await target.start();
    } catch (e) {
      await this.settleServiceAddress(name, 'the target did not start');
      throw new AgentError('io', `${name}: cannot listen on ${iscsi.portal}${sa && !wildcard ? ` and ${sa.address}:${iscsi.portalPort}` : ''}: ${(e as Error).message}`);
    }
    this.targets.set(name, target);
    update();
    if (sa && iface) void this.serviceAddresses.announce(name, sa, iface);
    return { ok: true };
  }

  private async targetStop(name: string): Promise<unknown> {
    const rt = this.runtime(name);
    const target = this.targets.get(name);
    if (target) {
      await target.stop();
      this.targets.delete(name);
    }
    await this.settleServiceAddress(name, 'the target stopped');
    if (rt.config.iscsi) rt.target = this.targetSnapshot(name, rt.config.iscsi);
    return { ok: true };
  }

  private targetSnapshot(name: string, iscsi: IscsiConfig, target?: IscsiTarget): TargetSnapshot {
    const sa = iscsi.serviceAddress;
    return {
      state: target?.running ? 'running' : 'stopped',
      iqn: iscsi.iqn,
      portal: iscsi.portal,
      sessions: target?.sessions() ?? [],
      chap: iscsi.chap !== undefined,
      ...(iscsi.allowedInitiators ? { allowedInitiators: iscsi.allowedInitiators } : {}),
      ...(sa ? { serviceAddress: this.serviceAddresses.state(name, sa) } : {}),
    };
  }

  /** An address added or removed by anyone shows in the target's serviceAddress.held. */
  private watchServiceAddresses(): Promise<void> {
    return this.serviceAddresses.watch(() => {
      void (async () => {
        let changed = false;
        for (const [name, rt] of this.runtimes) {
          const iscsi = rt.config.iscsi;
          if (!iscsi?.serviceAddress || !(await this.serviceAddresses.look(name, iscsi.serviceAddress))) continue;
          rt.target = this.targetSnapshot(name, iscsi, this.targets.get(name));
          changed = true;
        }
        if (changed) this.publish();
      })();
    });
  }

  /** The service address leaves a host that does not serve behind it (see ServiceAddressKeeper.settle). */
  private async settleServiceAddress(name: string, why: string): Promise<void> {
    const rt = this.runtimes.get(name);
    const cfg = rt?.config ?? this.configs.find((c) => c.resource === name);
    const sa = cfg?.iscsi?.serviceAddress;
    if (!sa) return;
    await this.serviceAddresses.settle(name, sa, { role: rt?.state.role ?? 'Unknown', targetRunning: this.targets.get(name)?.running ?? false }, why);
    if (rt && cfg.iscsi) rt.target = this.targetSnapshot(name, cfg.iscsi, this.targets.get(name));
  }

  private async down(name: string): Promise<unknown> {
    const rt = this.runtimes.get(name);
    this.upErrors.delete(name);
    if (!rt) return { ok: true };
    if (rt.state.role === 'Primary' && (this.targets.get(name)?.sessions().length ?? 0) > 0) throw new AgentError('refused', 'Device is held open by someone');
    await this.targetStop(name);
    await rt.down();
    this.runtimes.delete(name);
    // Shown as down at once rather than gone until the next look at its disks refines it.
    const cfg = this.configs.find((c) => c.resource === name);
    if (cfg) {
      const volumes = cfg.volumes.map((v) => ({ volume: v.volume, disk: v.disk, sizeSet: v.size !== undefined, probe: { kind: 'ok' } as const }));
      this.notUp = [...this.notUp.filter((n) => n.name !== name), judgeNotUp({ name, file: cfg.source.file, volumes })].sort((a, b) => a.name.localeCompare(b.name));
    }
    await rm(join(this.upDir, name), { force: true });
    return { ok: true };
  }

  /** Graceful shutdown of the daemon: resources go down cleanly but stay marked up. */
  async shutdown(): Promise<void> {
    await this.stop();
    for (const t of this.targets.values()) await t.stop().catch(() => undefined);
    this.targets.clear();
    for (const name of this.runtimes.keys()) await this.settleServiceAddress(name, 'the daemon stops');
    for (const rt of this.runtimes.values()) await rt.down().catch(() => undefined);
  }
}

/** The resource a config error keeps from loading: its file's name (NAME.yaml), or the one a duplicate names. */
function resourceOfError(e: ConfigError): string | undefined {
  if (e.resource !== undefined) return e.resource;
  const dup = /^resource (\S+) is also defined/.exec(e.message);
  if (dup) return dup[1];
  const ext = extname(e.file).toLowerCase();
  return CONFIG_EXTENSIONS.includes(ext) ? basename(e.file, extname(e.file)) : undefined;
}
