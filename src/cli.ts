// drbd-tui: the operator's console. Parses arguments and picks the app or a one-shot subcommand.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AGENT_VERSION } from '../agent/protocol/version.js';
import { collectStatus } from './status/collect.js';
import { statusReport, statusText } from './status/report.js';
import { checkVerdict, KIND_NAMES, parseOverrides, unknownVerdict, type CheckVerdict } from './status/check.js';
import { isRunbookId, RUNBOOK_IDS } from './runbooks/choose.js';
import { refreshOption } from './refresh-option.js';

export const USAGE = `drbd-tui ${AGENT_VERSION} — console for a two-node replicated storage pair

Usage:
  drbd-tui [--read-only] [-F ssh_config] [-i identity] [--config r0.yaml] [--no-unicode] [--refresh S | --slow-link] HOST_A HOST_B
                                             --config: put the resource file on both hosts (diff, confirm, adjust)
                                             --no-unicode: ASCII bars, borders and marks (also when the locale is not UTF-8)
                                             --refresh S: at most one frame per S seconds for updates (>= 0.5; keys answer at once; default 0.1)
                                             --slow-link: --refresh 2, for SSH sessions with little bandwidth
                                             NO_COLOR=1: no colour (FORCE_COLOR as chalk reads it wins)
  drbd-tui status [--json] [--read-only] [-F ssh_config] [-i identity] HOST_A HOST_B
                                             one-shot report; exit 0 healthy, 1 degraded, 2 unreachable
  drbd-tui check [--warn-on KIND,..] [--crit-on KIND,..] [--ok-on KIND,..] [--timeout S] [-F ssh_config] [-i identity] HOST_A HOST_B
                                             Nagios/Icinga plugin, read-only: one line with perfdata;
                                             exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments)
                                             --timeout S: the whole check, default 10
                                             KIND: ${KIND_NAMES.join(', ')}
  drbd-tui runbook NAME [--dry-run] [--resource R] [--host H] [--timeout S] [-F ssh_config] [-i identity] HOST_A HOST_B
                                             NAME: ${RUNBOOK_IDS.join(', ')}
                                             --dry-run: the plan, checked live; exit 0 runnable, 1 blocked, 2 unreachable
                                             else runs it step by step, asking on stdin (a line per answer)
  drbd-tui demo [--no-unicode] [--refresh S | --slow-link]
                                             embedded two-host demo, no root needed
`;

class UsageError extends Error {}

/** Ours, or parseArgs' (an unknown option, a missing value). */
function isUsageError(e: unknown): boolean {
  return e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true;
}

/** How every subcommand that reaches the hosts is told to: as ssh's -F and -i. */
const SSH_OPTIONS = { F: { type: 'string', short: 'F' }, i: { type: 'string', short: 'i' } } as const;

/** Options (strict) and positionals, with SSH_OPTIONS beside the subcommand's own. */
function parse<const O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...SSH_OPTIONS, ...options } });
}

/** `--timeout` in seconds (> 0) as milliseconds. */
function timeoutOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = Number(v);
  if (!(s > 0)) throw new UsageError('--timeout takes seconds > 0');
  return s * 1000;
}

function parseStatusArgs(argv: string[]) {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean' },
    'read-only': { type: 'boolean' },
    timeout: { type: 'string' },
  });
  if (positionals.length !== 2) throw new UsageError(`status needs exactly two hosts (got ${positionals.length})`);
  return { values, hosts: positionals as [string, string], timeoutMs: timeoutOption(values.timeout) };
}

async function runStatus(argv: string[]): Promise<number> {
  const { values, hosts, timeoutMs } = parseStatusArgs(argv);
  const model = await collectStatus(hosts, {
    configFile: values.F,
    identityFile: values.i,
    readOnly: values['read-only'] === true,
    timeoutMs,
    deploy: { log: (l) => process.stderr.write(`${l}\n`) },
  });
  const report = statusReport(model);
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : statusText(report, model));
  return report.exitCode;
}

/** The monitoring plugins' usual -t default; well inside Nagios' service_check_timeout and Icinga's command timeout (60 s). */
const CHECK_TIMEOUT_S = 10;
/** Of --timeout, what the hosts get: the rest is for closing the sessions and printing the line. */
const CHECK_HOST_SHARE = 0.9;

/** Every failure is UNKNOWN with its reason on stdout, where Nagios reads it (its usage errors included). */
async function runCheck(argv: string[]): Promise<number> {
  let verdict: CheckVerdict;
  try {
    const { values, positionals } = parse(argv, {
      'warn-on': { type: 'string' },
      'crit-on': { type: 'string' },
      'ok-on': { type: 'string' },
      timeout: { type: 'string' },
    });
    if (positionals.length !== 2) throw new UsageError(`check needs exactly two hosts (got ${positionals.length})`);
    const o = parseOverrides({ warning: values['warn-on'], critical: values['crit-on'], ok: values['ok-on'] });
    if ('error' in o) throw new UsageError(o.error);
    const timeoutMs = timeoutOption(values.timeout) ?? CHECK_TIMEOUT_S * 1000;
    const model = await collectStatus(positionals as [string, string], {
      configFile: values.F,
      identityFile: values.i,
      readOnly: true,
      timeoutMs: timeoutMs * CHECK_HOST_SHARE,
    });
    verdict = checkVerdict(statusReport(model), { overrides: o.overrides });
  } catch (e) {
    verdict = unknownVerdict(isUsageError(e) ? `usage: ${(e as Error).message} (drbd-tui --help)` : (e as Error).message);
  }
  process.stdout.write(`${verdict.line}\n`);
  return verdict.code;
}

async function runRunbook(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    'dry-run': { type: 'boolean' },
    resource: { type: 'string' },
    host: { type: 'string' },
    timeout: { type: 'string' },
  });
  const [id, ...hosts] = positionals;
  if (id === undefined || !isRunbookId(id)) throw new UsageError(`runbook needs a NAME: one of ${RUNBOOK_IDS.join(', ')}${id === undefined ? '' : ` (got ${id})`}`);
  if (hosts.length !== 2) throw new UsageError(`runbook needs exactly two hosts (got ${hosts.length})`);
  if (values.host !== undefined && !hosts.includes(values.host)) throw new UsageError(`--host ${values.host}: not one of ${hosts.join(', ')}`);
  const { runRunbookCli } = await import('./runbooks/run-terminal.js');
  return runRunbookCli({
    id,
    hosts: hosts as [string, string],
    dryRun: values['dry-run'] === true,
    resource: values.resource,
    host: values.host,
    timeoutMs: timeoutOption(values.timeout),
    configFile: values.F,
    identityFile: values.i,
  });
}

/** How the console draws, shared by the console and the demo: `--no-unicode`, `--refresh S`, `--slow-link`. */
const DISPLAY_OPTIONS = {
  'no-unicode': { type: 'boolean' },
  refresh: { type: 'string' },
  'slow-link': { type: 'boolean' },
} as const;

function displayOptions(values: { 'no-unicode'?: boolean; refresh?: string; 'slow-link'?: boolean }): { unicode?: false; refreshMs?: number } {
  const refresh = refreshOption(values.refresh, values['slow-link'] === true);
  if ('error' in refresh) throw new UsageError(refresh.error);
  return { ...(values['no-unicode'] === true ? { unicode: false as const } : {}), refreshMs: refresh.ms };
}

function parseConsoleArgs(argv: string[]) {
  const { values, positionals } = parse(argv, {
    'read-only': { type: 'boolean' },
    config: { type: 'string' },
    ...DISPLAY_OPTIONS,
  });
  if (positionals.length !== 2) throw new UsageError(`the console needs exactly two hosts (got ${positionals.length})`);
  if (values.config !== undefined && values['read-only']) throw new UsageError('--config writes the resource file on both hosts: it cannot go with --read-only');
  return { values, hosts: positionals as [string, string], display: displayOptions(values) };
}

async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: DISPLAY_OPTIONS });
  const display = displayOptions(values);
  const { startDemo } = await import('./demo/demo.js');
  const { runConsole } = await import('./console.js');
  const demo = await startDemo();
  try {
    return await runConsole({ hosts: demo.hosts, readOnly: false, configFile: demo.sshConfigPath, identityFile: demo.identityPath, ...display });
  } finally {
    await demo.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  try {
    if (argv[0] === 'status') return await runStatus(argv.slice(1));
    if (argv[0] === 'check') return await runCheck(argv.slice(1));
    if (argv[0] === 'runbook') return await runRunbook(argv.slice(1));
    if (argv[0] === 'demo') return await runDemo(argv.slice(1));
    const { values, hosts, display } = parseConsoleArgs(argv);
    const { runConsole } = await import('./console.js');
    return await runConsole({
      hosts,
      readOnly: values['read-only'] === true,
      configFile: values.F,
      identityFile: values.i,
      resourceFile: values.config,
      ...display,
    });
  } catch (e) {
    if (isUsageError(e)) {
      process.stderr.write(`drbd-tui: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`drbd-tui: ${(e as Error).message}\n`);
    return 2;
  }
}

// The SSH connections and timers of a one-shot command must not keep the process alive.
process.exit(await main(process.argv.slice(2)));
