// drbd-tui: the operator's console. Parses arguments and picks the app or a one-shot subcommand.
import { parseArgs } from 'node:util';
import { AGENT_VERSION } from '../agent/version.js';
import { collectStatus } from './status/collect.js';
import { statusReport, statusText } from './status/report.js';

export const USAGE = `drbd-tui ${AGENT_VERSION} — console for a two-node replicated storage pair

Usage:
  drbd-tui [--read-only] [-F ssh_config] [-i identity] [--config r0.yaml] HOST_A HOST_B
                                             --config: put the resource file on both hosts (diff, confirm, adjust)
  drbd-tui status [--json] [--read-only] [-F ssh_config] [-i identity] HOST_A HOST_B
                                             one-shot report; exit 0 healthy, 1 degraded, 2 unreachable
  drbd-tui demo                              embedded two-host demo, no root needed
`;

class UsageError extends Error {}

function parseStatusArgs(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      'read-only': { type: 'boolean' },
      F: { type: 'string', short: 'F' },
      i: { type: 'string', short: 'i' },
      timeout: { type: 'string' },
    },
  });
  if (positionals.length !== 2) throw new UsageError(`status needs exactly two hosts (got ${positionals.length})`);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError('--timeout takes seconds > 0');
  return { values, hosts: positionals as [string, string], timeoutMs: timeout === undefined ? undefined : timeout * 1000 };
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

function parseConsoleArgs(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'read-only': { type: 'boolean' },
      F: { type: 'string', short: 'F' },
      i: { type: 'string', short: 'i' },
      config: { type: 'string' },
    },
  });
  if (positionals.length !== 2) throw new UsageError(`the console needs exactly two hosts (got ${positionals.length})`);
  if (values.config !== undefined && values['read-only']) throw new UsageError('--config writes the resource file on both hosts: it cannot go with --read-only');
  return { values, hosts: positionals as [string, string] };
}

async function runDemo(): Promise<number> {
  const { startDemo } = await import('./demo/demo.js');
  const { runConsole } = await import('./console.js');
  const demo = await startDemo();
  try {
    return await runConsole({ hosts: demo.hosts, readOnly: false, configFile: demo.sshConfigPath, identityFile: demo.identityPath });
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
    if (argv[0] === 'demo') return await runDemo();
    const { values, hosts } = parseConsoleArgs(argv);
    const { runConsole } = await import('./console.js');
    return await runConsole({ hosts, readOnly: values['read-only'] === true, configFile: values.F, identityFile: values.i, resourceFile: values.config });
  } catch (e) {
    if (e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`drbd-tui: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`drbd-tui: ${(e as Error).message}\n`);
    return 2;
  }
}

// The SSH connections and timers of a one-shot command must not keep the process alive.
process.exit(await main(process.argv.slice(2)));
