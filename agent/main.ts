// drbd-agent: the host-side daemon and its drbdadm-style CLI.
import { AGENT_VERSION } from './version.js';

export const USAGE = `drbd-agent ${AGENT_VERSION} — replication engine and iSCSI target for drbd-tui

Usage:
  drbd-agent daemon [--config-dir /etc/drbd-tui] [--state-dir /var/lib/drbd-tui]
                    [--socket /run/drbd-tui/agent.sock] [--node NAME]
  drbd-agent [--socket P] create-md [--force] RES | up RES | down RES | attach RES | detach RES
  drbd-agent [--socket P] primary [--force] RES | secondary RES
  drbd-agent [--socket P] connect [--discard-my-data] RES | disconnect RES
  drbd-agent [--socket P] invalidate RES | verify RES | new-current-uuid --clear-bitmap RES
  drbd-agent [--socket P] pause-sync RES | resume-sync RES
  drbd-agent [--socket P] target start|stop|status RES
  drbd-agent [--socket P] status [RES] [--json]
  drbd-agent [--socket P] events [--now] [--statistics] [--timestamps]

Verbs mean what drbdadm means by them. A refused state change exits 1 and prints DRBD's reason.
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
  process.stderr.write(`drbd-agent: '${argv[0]}' is not available in this build\n${USAGE}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
