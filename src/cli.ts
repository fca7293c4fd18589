// drbd-tui: the operator's console. Parses arguments and picks the app or a one-shot subcommand.
import { AGENT_VERSION } from '../agent/version.js';

export const USAGE = `drbd-tui ${AGENT_VERSION} — console for a two-node replicated storage pair

Usage:
  drbd-tui [--read-only] [-F ssh_config] [-i identity] [--config r0.yaml] HOST_A HOST_B
  drbd-tui status [--json] HOST_A HOST_B     one-shot report; exit 0 healthy, 1 degraded, 2 unreachable
  drbd-tui demo                              embedded two-host demo, no root needed
`;

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  process.stderr.write(`drbd-tui: '${argv[0]}' is not available in this build\n${USAGE}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
