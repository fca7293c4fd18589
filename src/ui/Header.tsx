import { Box } from 'ink';
import { Text } from './Text.js';
import type { ClusterModel, HostIndex, HostState } from '../cluster/model.js';
import { quietFrom, reachText, silentFor } from '../cluster/model.js';
import { fmtAge, truncate, untilAgeChanges } from './format.js';

function reachMark(h: HostState, now: number): { mark: string; color: string } {
  if (silentFor(h, now) !== undefined) return { mark: '◌', color: 'yellow' };
  switch (h.reach.state) {
    case 'up':
      return { mark: '●', color: 'green' };
    case 'connecting':
      return { mark: '◌', color: 'yellow' };
    default:
      return { mark: '✖', color: 'red' };
  }
}

/**
 * A host's words in the header at `now`: an up host that has gone quiet is "not heard for 12 s"
 * (the SSH link takes several missed keepalives to give up, and until then it still says up);
 * a host that is not up says when it was last heard from, before the error, which may be cut.
 */
export function hostSummary(h: HostState, now: number): string {
  const quiet = silentFor(h, now);
  if (quiet !== undefined) return `not heard for ${fmtAge(quiet)}`;
  if (h.reach.state !== 'up') {
    const text = reachText(h.reach);
    if (h.lastHeard === undefined) return text;
    const cut = text.indexOf(': ');
    const heard = `, heard ${fmtAge(now - h.lastHeard)} ago`;
    return cut < 0 ? text + heard : text.slice(0, cut) + heard + text.slice(cut);
  }
  const parts = ['up'];
  if (h.latencyMs !== undefined) parts.push(`${Math.round(h.latencyMs)}ms`);
  if (h.agentVersion) parts.push(`v${h.agentVersion}`);
  return parts.join(' ');
}

/**
 * When the header's words next change with time alone (epoch ms): the moment a host goes quiet,
 * then each time an age shown moves on; undefined while nothing depends on the clock.
 */
export function headerChangeAt(hosts: readonly HostState[], now: number): number | undefined {
  const times = hosts.flatMap((h) => {
    if (h.lastHeard === undefined) return [];
    const age = now - h.lastHeard;
    if (h.reach.state !== 'up' || silentFor(h, now) !== undefined) return [now + untilAgeChanges(age)];
    // Not quiet yet: the first moment after quietFrom().
    return [(quietFrom(h) ?? now) + 1];
  });
  return times.length === 0 ? undefined : Math.min(...times);
}

/** One line: both hosts (the selected one highlighted), their reachability (or how long they have been quiet), latency and agent version, and the READ-ONLY badge. */
export function Header({ model, host, width, now }: { model: ClusterModel; host: HostIndex; width: number; now: number }) {
  const badge = model.readOnly ? ' READ-ONLY ' : '';
  const title = 'drbd-tui ';
  const per = Math.max(8, Math.floor((width - title.length - badge.length - 2) / 2));
  return (
    <Box width={width} height={1}>
      <Text bold>{title}</Text>
      {([0, 1] as const).map((i) => {
        const h = model.hosts[i];
        const { mark, color } = reachMark(h, now);
        const label = truncate(`${h.name} ${hostSummary(h, now)}`, per - 2);
        return (
          <Box key={i} width={per + 1}>
            <Text color={color}>{mark} </Text>
            <Text inverse={i === host} color={color === 'green' ? undefined : color}>
              {label}
            </Text>
          </Box>
        );
      })}
      {badge ? (
        <Text backgroundColor="yellow" color="black" bold>
          {badge}
        </Text>
      ) : null}
    </Box>
  );
}
