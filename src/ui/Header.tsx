import { Box, Text } from 'ink';
import type { ClusterModel, HostIndex, HostState } from '../cluster/model.js';
import { reachText } from '../cluster/model.js';
import { truncate } from './format.js';

function reachMark(h: HostState): { mark: string; color: string } {
  switch (h.reach.state) {
    case 'up':
      return { mark: '●', color: 'green' };
    case 'connecting':
      return { mark: '◌', color: 'yellow' };
    default:
      return { mark: '✖', color: 'red' };
  }
}

export function hostSummary(h: HostState): string {
  const parts = [h.reach.state === 'up' ? 'up' : reachText(h.reach)];
  if (h.reach.state === 'up' && h.latencyMs !== undefined) parts.push(`${Math.round(h.latencyMs)}ms`);
  if (h.agentVersion) parts.push(`v${h.agentVersion}`);
  return parts.join(' ');
}

/** One line: both hosts (the selected one highlighted), their reachability, latency and agent version, and the READ-ONLY badge. */
export function Header({ model, host, width }: { model: ClusterModel; host: HostIndex; width: number }) {
  const badge = model.readOnly ? ' READ-ONLY ' : '';
  const title = 'drbd-tui ';
  const per = Math.max(8, Math.floor((width - title.length - badge.length - 2) / 2));
  return (
    <Box width={width} height={1}>
      <Text bold>{title}</Text>
      {([0, 1] as const).map((i) => {
        const h = model.hosts[i];
        const { mark, color } = reachMark(h);
        const label = truncate(`${h.name} ${hostSummary(h)}`, per - 2);
        return (
          <Box key={i} width={per + 1}>
            <Text color={color}>{mark} </Text>
            <Text inverse={i === host} color={h.reach.state === 'up' ? undefined : color}>
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
