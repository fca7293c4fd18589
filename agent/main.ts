// drbd-agent: the host-side daemon and its drbdadm-style CLI.
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { connectUnix, type ControlClient } from './protocol/client.js';
import { parseMonitorAccess } from './control/monitor-access.js';
import { statusJson } from './control/status-json.js';
import { statusText } from './control/status-text.js';
import { Daemon, DEFAULT_DAEMON_OPTIONS } from './daemon.js';
import { readAgentSettings, AGENT_SETTINGS_FILE } from './agent-settings.js';
import { serveMetrics, type MetricsServer } from './metrics/http.js';
import { formatListen, parseMetricsListen, type MetricsListen } from './metrics/listen-address.js';
import { agentDownText, prometheusText } from './metrics/prometheus.js';
import { describeLinkFaults, LINK_FAULTS_ENV, parseLinkFaults } from './engine/link-faults.js';
import { formatEvent } from './protocol/events2.js';
import { notUpLine } from './protocol/not-up.js';
import {
  AgentError,
  type AdjustResult,
  type AgentSnapshot,
  type ConnectResult,
  type Method,
  type ResizeResult,
  type RunbookLogResult,
  type SplitBrainCopiesResult,
  type SplitBrainRestoreResult,
  type StateEvent,
} from './protocol/messages.js';
import { formatSize } from './engine/metadata.js';
import { runbookLogLine } from './protocol/runbook-log-line.js';
import { AGENT_VERSION } from './protocol/version.js';
import { LOG_LINE_LIMIT, logLine } from './log.js';
import { untrustedLines, untrustedText } from './protocol/untrusted-text.js';
import { monitorSocketPath } from './protocol/socket-paths.js';

export const USAGE = `drbd-agent ${AGENT_VERSION} — replication engine and iSCSI target for drbd-tui

Usage:
  drbd-agent daemon [--config-dir /etc/drbd-tui | --config-dir /etc/drbd.d | --config /etc/drbd.conf]
                    [--state-dir /var/lib/drbd-tui]
                    [--socket /run/drbd-tui/agent.sock] [--node NAME]
                    [--monitor-access group|world|root|GROUP] [--metrics ADDR:PORT|off]
  drbd-agent [--socket P] create-md [--force [--forget-peer]] RES | up RES | down RES | attach RES | detach RES
  drbd-agent [--socket P] primary [--force [--forget-peer]] RES | secondary RES
  drbd-agent [--socket P] connect [--discard-my-data [--no-backup]] RES | disconnect RES
  drbd-agent [--socket P] invalidate RES | verify RES | new-current-uuid --clear-bitmap RES
  drbd-agent [--socket P] pause-sync RES | resume-sync RES
  drbd-agent [--socket P] target start|stop|status RES
  drbd-agent [--socket P] status [RES] [--json]
  drbd-agent [--socket P] events [--now] [--statistics] [--timestamps]
  drbd-agent [--socket P] adjust [RES]
  drbd-agent [--socket P] resize RES          # grow only: grow both backing disks first
  drbd-agent [--socket P] split-brain-copies [RES]
  drbd-agent [--socket P] split-brain-restore RES COPY [--volume N] [--yes]
  drbd-agent [--socket P] runbook-log [RES] [--json] [--limit N]   # the audit log of runbook steps
  drbd-agent [--socket P] metrics             # Prometheus text (drbd-reactor's names), for node_exporter's textfile collector

Verbs mean what drbdadm means by them. A refused state change exits 1 and prints DRBD's reason.
status, events, runbook-log and metrics also work on the monitor socket (P with .ro.sock), which refuses every change;
--monitor-access says who may open it (default: the drbd-tui group; root only when that group does not exist).
The daemon serves GET /metrics over HTTP only when CONFIG-DIR/${AGENT_SETTINGS_FILE} says \`metrics: 127.0.0.1:9942\`
(or --metrics, which overrides it): a port alone listens on loopback; any other address is written as an IP address.
primary --force and create-md --force are refused while the peer's last known data would be
lost; --forget-peer overrides that, for a peer that is gone for good, and forgets its data.
connect --discard-my-data first keeps a copy of this node's diverging blocks (the ranges out of
sync) in STATE-DIR/split-brain/RES/; when that copy cannot be made the discard is refused, and
--no-backup discards without one. split-brain-copies lists the kept copies (also on the monitor
socket); split-brain-restore writes one back through the replicated device of the Primary
(UpToDate), so the peer gets it too: without --yes it prints what it would overwrite and exits 1.
`;

/** Verbs that take exactly one resource name and map 1:1 onto a control method. */
const RESOURCE_VERBS: Record<string, Method> = {
  'create-md': 'create-md',
  up: 'up',
  down: 'down',
  attach: 'attach',
  detach: 'detach',
  primary: 'primary',
  secondary: 'secondary',
  connect: 'connect',
  disconnect: 'disconnect',
  invalidate: 'invalidate',
  verify: 'verify',
  'new-current-uuid': 'new-current-uuid',
  'pause-sync': 'pause-sync',
  'resume-sync': 'resume-sync',
  resize: 'resize',
};

class UsageError extends Error {}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      socket: { type: 'string' },
      'config-dir': { type: 'string' },
      config: { type: 'string' },
      'state-dir': { type: 'string' },
      node: { type: 'string' },
      'monitor-access': { type: 'string' },
      metrics: { type: 'string' },
      force: { type: 'boolean' },
      'discard-my-data': { type: 'boolean' },
      'no-backup': { type: 'boolean' },
      volume: { type: 'string' },
      yes: { type: 'boolean' },
      'forget-peer': { type: 'boolean' },
      'clear-bitmap': { type: 'boolean' },
      json: { type: 'boolean' },
      now: { type: 'boolean' },
      statistics: { type: 'boolean' },
      timestamps: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      limit: { type: 'string' },
    },
  });
}

async function runDaemon(values: ReturnType<typeof parse>['values']): Promise<number> {
  const linkFaults = parseLinkFaults(process.env[LINK_FAULTS_ENV]);
  const monitorAccess = parseMonitorAccess(values['monitor-access'] ?? 'group');
  if (typeof monitorAccess === 'object' && 'error' in monitorAccess) throw new UsageError(monitorAccess.error);
  if (values.config !== undefined && values['config-dir'] !== undefined) throw new UsageError('give --config FILE (one file, e.g. /etc/drbd.conf) or --config-dir DIR, not both');
  const metricsListen = await metricsSetting(values);
  const daemon = new Daemon({
    monitorAccess,
    configDir: values['config-dir'] ?? (values.config !== undefined ? dirname(values.config) : DEFAULT_DAEMON_OPTIONS.configDir),
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    stateDir: values['state-dir'] ?? DEFAULT_DAEMON_OPTIONS.stateDir,
    socket: values.socket ?? DEFAULT_DAEMON_OPTIONS.socket,
    node: values.node ?? DEFAULT_DAEMON_OPTIONS.node,
    linkFaults,
  });
  await daemon.start();
  process.stderr.write(`drbd-agent ${AGENT_VERSION}: daemon for node ${daemon.opts.node} listening on ${daemon.opts.socket}\n`);
  const hook = describeLinkFaults(linkFaults);
  if (hook) logLine(`warn: ${hook}`);
  const metrics = metricsListen ? await startMetrics(metricsListen, daemon) : undefined;
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await metrics?.close();
  await daemon.shutdown();
  return 0;
}

/**
 * Where to serve metrics: --metrics (a bad value is a usage error), else agent.conf. A bad
 * agent.conf is logged and metrics stay off: replication matters more than its metrics.
 */
async function metricsSetting(values: ReturnType<typeof parse>['values']): Promise<MetricsListen | undefined> {
  if (values.metrics !== undefined) {
    const parsed = parseMetricsListen(values.metrics);
    if (!parsed.ok) throw new UsageError(`--metrics ${parsed.message}`);
    return parsed.value;
  }
  const read = await readAgentSettings(values['config-dir'] ?? DEFAULT_DAEMON_OPTIONS.configDir);
  if ('errors' in read) {
    for (const e of read.errors) logLine(`warn: ${e}; metrics are off until it is fixed and the daemon restarted`);
    return undefined;
  }
  return read.settings.metrics;
}

/** The HTTP endpoint; one that cannot listen (port taken) is logged, and the daemon runs on without it. */
async function startMetrics(listen: MetricsListen, daemon: Daemon): Promise<MetricsServer | undefined> {
  try {
    const server = await serveMetrics(listen, () => daemon.snapshot());
    const where = formatListen(server.address);
    logLine(listen.loopback ? `metrics on http://${where}/metrics` : `warn: metrics on http://${where}/metrics, open to the network (not loopback), as configured`);
    return server;
  } catch (e) {
    logLine(`warn: cannot serve metrics on ${formatListen(listen)}: ${(e as Error).message}; running without them`);
    return undefined;
  }
}

/** The admin socket when we may use it; the monitor socket for read-only verbs otherwise. */
async function connectFor(socket: string, readOnly: boolean): Promise<ControlClient> {
  try {
    return await connectUnix(socket);
  } catch (e) {
    if (readOnly) return connectUnix(monitorSocketPath(socket)).catch(() => Promise.reject(e));
    throw e;
  }
}

/** A refused state change prints DRBD's way and exits 1; any other error goes on up. */
function refused(resource: string, e: unknown): number {
  if (!(e instanceof AgentError && e.code === 'refused')) throw e;
  process.stderr.write(untrustedLines(`${resource}: State change failed: ${e.message}`, LOG_LINE_LIMIT) + '\n');
  return 1;
}

async function runClient(verb: string, args: string[], values: ReturnType<typeof parse>['values']): Promise<number> {
  const socket = values.socket ?? DEFAULT_DAEMON_OPTIONS.socket;
  if (verb === 'status') {
    const client = await connectFor(socket, true);
    try {
      const snap = await client.request<AgentSnapshot>('snapshot');
      const res = args[0];
      if (res && !snap.resources.some((r) => r.name === res)) {
        const down = snap.notUp?.find((n) => n.name === res);
        process.stderr.write(untrustedText(down ? `${res}: not up: ${notUpLine(down)}` : `${res}: No such resource (no resource file for it)`, LOG_LINE_LIMIT) + '\n');
        return 10;
      }
      process.stdout.write(values.json ? JSON.stringify(statusJson(snap, res), null, 2) + '\n' : statusText(snap, res));
      return 0;
    } finally {
      client.close();
    }
  }
  if (verb === 'events') {
    const client = await connectFor(socket, true);
    const print = (e: StateEvent) => {
      const line = formatEvent(values.timestamps ? e : { ...e, time: '' });
      process.stdout.write(line + '\n');
      if (values.now && e.object === '-') {
        client.close();
        process.exit(0);
      }
    };
    client.onEvent(print);
    await client.request('subscribe', { statistics: values.statistics === true });
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    client.close();
    return 0;
  }
  if (verb === 'runbook-log') {
    if (args.length > 1) throw new UsageError('runbook-log takes at most one resource name');
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError('--limit needs a positive number');
    const client = await connectFor(socket, true);
    try {
      const { entries } = await client.request<RunbookLogResult>('runbook-log', { ...(args[0] !== undefined ? { resource: args[0] } : {}), ...(limit !== undefined ? { limit } : {}) });
      process.stdout.write(values.json ? JSON.stringify(entries, null, 2) + '\n' : entries.map((e) => untrustedText(runbookLogLine(e), LOG_LINE_LIMIT) + '\n').join(''));
      return 0;
    } finally {
      client.close();
    }
  }
  if (verb === 'adjust') {
    if (args.length > 1) throw new UsageError('adjust takes at most one resource name');
    const client = await connectUnix(socket);
    try {
      if (args[0] === undefined) {
        await client.request('adjust');
        return 0;
      }
      const r = await client.request<AdjustResult>('adjust', { resource: args[0] });
      if (r.state === 'down') process.stdout.write(`${args[0]}: configured, not up: ${r.reason ?? 'unknown reason'}\n`);
      if (r.pending) process.stdout.write(`${args[0]}: up with the settings it was brought up with; the changed file takes effect at the next down/up\n`);
      return 0;
    } finally {
      client.close();
    }
  }
  if (verb === 'metrics') return printMetrics(socket, args);
  if (verb === 'split-brain-copies') return listCopies(socket, args);
  if (verb === 'split-brain-restore') return restoreCopy(socket, args, values);
  let method = RESOURCE_VERBS[verb];
  if (verb === 'target') {
    const sub = args.shift();
    if (sub !== 'start' && sub !== 'stop' && sub !== 'status') throw new UsageError('target needs start, stop or status');
    if (sub === 'status') return runClient('status', args, values);
    method = sub === 'start' ? 'target-start' : 'target-stop';
  }
  if (!method) throw new UsageError(`unknown verb '${verb}'`);
  const resource = args[0];
  if (!resource || args.length > 1) throw new UsageError(`${verb} takes exactly one resource name`);
  if (verb === 'new-current-uuid' && !values['clear-bitmap']) throw new UsageError('new-current-uuid needs --clear-bitmap');
  if (values['no-backup'] && !(verb === 'connect' && values['discard-my-data'])) throw new UsageError('--no-backup goes with connect --discard-my-data');
  if (values['forget-peer'] && !((verb === 'primary' || verb === 'create-md') && values.force)) throw new UsageError('--forget-peer goes with primary --force or create-md --force');
  const client = await connectUnix(socket);
  try {
    const result = await client.request<unknown>(method, {
      resource,
      force: values.force === true,
      discardMyData: values['discard-my-data'] === true,
      skipBackup: values['no-backup'] === true,
      forgetPeer: values['forget-peer'] === true,
      clearBitmap: values['clear-bitmap'] === true,
    });
    const message = method === 'connect' ? (result as Partial<ConnectResult> | undefined)?.message : undefined;
    if (message) process.stdout.write(untrustedLines(`${resource}: ${message}`, LOG_LINE_LIMIT) + '\n');
    if (method === 'resize') for (const v of (result as ResizeResult).volumes) process.stdout.write(`${resource}/${v.volume}: ${v.fromKiB} KiB -> ${v.toKiB} KiB\n`);
    return 0;
  } catch (e) {
    return refused(resource, e);
  } finally {
    client.close();
  }
}

/**
 * `metrics`: the snapshot as Prometheus text. When the daemon does not answer it prints
 * drbdtui_agent_up 0 (and exits 3), so a textfile written from it says so instead of going stale.
 */
async function printMetrics(socket: string, args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError('metrics takes no arguments');
  let client: ControlClient;
  try {
    client = await connectFor(socket, true);
  } catch (e) {
    process.stdout.write(agentDownText(AGENT_VERSION));
    throw e;
  }
  try {
    process.stdout.write(prometheusText(await client.request<AgentSnapshot>('snapshot')));
    return 0;
  } finally {
    client.close();
  }
}

/** `split-brain-copies [RES]`: one line per kept copy; read-only, so the monitor socket will do. */
async function listCopies(socket: string, args: string[]): Promise<number> {
  if (args.length > 1) throw new UsageError('split-brain-copies takes at most one resource name');
  const client = await connectFor(socket, true);
  try {
    const { copies } = await client.request<SplitBrainCopiesResult>('split-brain-copies', args[0] !== undefined ? { resource: args[0] } : {});
    if (copies.length === 0) process.stdout.write(`no split-brain copies kept${args[0] !== undefined ? ` of ${args[0]}` : ''}\n`);
    for (const c of copies) process.stdout.write(`${c.created}  ${c.resource}/${c.volume}  ${c.id}  ${formatSize(c.bytes)}  ${c.ranges} ranges  ${c.path}\n`);
    return 0;
  } finally {
    client.close();
  }
}

/** `split-brain-restore RES COPY [--volume N] [--yes]`: without --yes, what would be overwritten, exit 1. */
async function restoreCopy(socket: string, args: string[], values: ReturnType<typeof parse>['values']): Promise<number> {
  const [resource, copy] = args;
  if (resource === undefined || copy === undefined || args.length > 2) throw new UsageError('split-brain-restore takes a resource name and a copy (an id from split-brain-copies)');
  const volume = values.volume === undefined ? undefined : Number(values.volume);
  if (volume !== undefined && !Number.isInteger(volume)) throw new UsageError('--volume takes a volume number');
  const client = await connectUnix(socket);
  try {
    const r = await client.request<SplitBrainRestoreResult>('split-brain-restore', { resource, copy, ...(volume !== undefined ? { volume } : {}), yes: values.yes === true });
    for (const line of r.lines) process.stdout.write(untrustedText(line, LOG_LINE_LIMIT) + '\n');
    return r.restored ? 0 : 1;
  } catch (e) {
    return refused(resource, e);
  } finally {
    client.close();
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    process.stderr.write(`drbd-agent: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  const [verb, ...args] = positionals;
  if (!verb) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    if (verb === 'daemon') return await runDaemon(values);
    return await runClient(verb, args, values);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`drbd-agent: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(untrustedLines(`drbd-agent: ${(e as Error).message}`, LOG_LINE_LIMIT) + '\n');
    return e instanceof AgentError && e.code !== 'internal' ? 1 : 3;
  }
}

process.exitCode = await main(process.argv.slice(2));
