import type { ReactElement } from 'react';
import type { GenerationIds } from '../../agent/protocol/messages.js';
import { Box } from 'ink';
import { Text } from './Text.js';
import { NOT_UP_WORDS, notUpPhrase } from '../../agent/protocol/not-up.js';
import { ignoredText } from '../../agent/protocol/resource-notes.js';
import type { ClusterModel, HostIndex, RecentEvent, ResourceRow } from '../cluster/model.js';
import { outOfSight, outOfSightText } from '../cluster/last-known.js';
import type { ShownProblem } from './host-trouble.js';
import { SEVERITY_ICON, severityStyle, stateStyle } from './colors.js';
import { fmtKiB, truncate } from './format.js';
import { linkWord } from './ResourceTable.js';
import { EventLog } from './EventLog.js';
import { SyncBar } from './SyncBar.js';

function Word({ w }: { w: string }) {
  return <Text {...stateStyle(w)}>{w}</Text>;
}

function giLine(gi: GenerationIds, key: string, width: number, label = '') {
  const bm = Object.entries(gi.bitmap)
    .map(([n, u]) => `B[${n}] ${u}`)
    .join(' ');
  return (
    <Text key={key} wrap="truncate">
      {truncate(`  ${label}GI C ${gi.current || '?'}  ${bm}  H ${gi.history.slice(0, 2).join(' ') || '-'}`, width)}
    </Text>
  );
}

/** Where the resource's service address is, from the hosts' own word: "svc 10.77.0.100/24 on ha-a"; undefined without one. */
export function serviceAddressWhere(row: ResourceRow, names: [string, string]): string | undefined {
  const sa = ([0, 1] as const).map((i) => (row.sides[i].reachable ? row.sides[i].target?.serviceAddress : undefined));
  const address = sa[0]?.address || sa[1]?.address;
  if (!address) return undefined;
  const on = ([0, 1] as const).filter((i) => sa[i]?.held).map((i) => `${names[i]}${sa[i]!.interface ? ` (${sa[i]!.interface})` : ''}`);
  const unseen = ([0, 1] as const).filter((i) => !row.sides[i].reachable).map((i) => names[i]);
  const where = on.length > 0 ? `on ${on.join(' and ')}` : 'on neither host';
  return `svc ${address} ${where}${unseen.length > 0 ? ` the console can see (${unseen.join(', ')} out of sight)` : ''}`;
}

/** Lines about one host's side of the selected volume. */
function hostLines(m: ClusterModel, row: ResourceRow, i: HostIndex, names: [string, string], width: number, now: number) {
  const s = row.sides[i];
  const out: ReactElement[] = [];
  const k = (n: string) => `${i}:${n}`;
  const known = outOfSight(m, row, i);
  if (known) {
    // Its statistics, links and sessions were true when last heard: only the data facts still count.
    out.push(
      <Text key={k('h')} wrap="truncate">
        <Text bold>{names[i]}</Text> <Text dimColor>{truncate(outOfSightText(known, now), Math.max(0, width - names[i].length - 1))}</Text>
      </Text>,
    );
    if (s.present && s.gi) out.push(giLine(s.gi, `${k('gi')}`, width, 'last seen by the console: '));
    return out;
  }
  if (!s.present) {
    const n = s.notUp;
    out.push(
      <Text key={k('h')} bold wrap="truncate">
        {names[i]}{' '}
        {n ? (
          <Text color={NOT_UP_WORDS[n.cause].broken ? 'red' : 'yellow'}>{notUpPhrase(n)}</Text>
        ) : (
          <Text dimColor>{s.reachable ? 'resource not up here' : 'unreachable — no live state'}</Text>
        )}
      </Text>,
    );
    if (n) {
      out.push(
        <Text key={k('next')} wrap="truncate">
          {truncate(`  next: ${n.next}`, width)}
        </Text>,
      );
    }
    return out;
  }
  out.push(
    <Text key={k('h')} wrap="truncate">
      <Text bold>{names[i]}</Text> <Word w={s.role} /> <Word w={s.disk} /> <Word w={linkWord(s)} /> peer <Word w={s.peerRole} /> <Word w={s.peerDisk} />
      {s.open ? <Text color="cyan"> open</Text> : null}
    </Text>,
  );
  const pd = s.peerDevice;
  if (pd) {
    out.push(
      <Text key={k('pd')} wrap="truncate">
        {truncate(
          `  sent ${fmtKiB(pd.sent)}  received ${fmtKiB(pd.received)}  out-of-sync ${fmtKiB(pd.outOfSync)}  pending ${pd.pending}  unacked ${pd.unacked}` +
            (pd.verifyMismatch !== undefined ? `  verify-mismatch ${fmtKiB(pd.verifyMismatch)}` : ''),
          width,
        )}
      </Text>,
    );
  }
  if (s.gi) out.push(giLine(s.gi, k('gi'), width));
  for (const [n, o] of (s.resource?.ignored ?? []).entries()) {
    out.push(
      <Text key={k(`ign${n}`)} dimColor wrap="truncate">
        {truncate(`  ${ignoredText(o)}`, width)}
      </Text>,
    );
  }
  if (s.conn?.lastError) {
    out.push(
      <Text key={k('err')} color="red" wrap="truncate">
        {truncate(`  ${s.conn.connection}: ${s.conn.lastError}`, width)}
      </Text>,
    );
  }
  if (s.target) {
    const t = s.target;
    out.push(
      <Text key={k('t')} wrap="truncate">
        {truncate(`  iSCSI ${t.state} ${t.iqn} ${t.portal}  ${t.sessions.length} session${t.sessions.length === 1 ? '' : 's'}`, width)}
      </Text>,
    );
    for (const se of t.sessions) {
      out.push(
        <Text key={k('s' + se.id)} color="cyan" wrap="truncate">
          {truncate(`    ${se.initiator} from ${se.address}`, width)}
        </Text>,
      );
    }
  }
  return out;
}

export interface DetailViewProps {
  model: ClusterModel;
  row: ResourceRow | undefined;
  /** For how old the last known state of a host out of sight is (epoch ms). */
  now: number;
  hostNames: [string, string];
  problems: ShownProblem[];
  events: RecentEvent[];
  width: number;
  height: number;
}

/** Everything about the selected resource/volume: both sides' statistics, generation identifiers, target, its problems and events. */
export function DetailView({ model, row, now, hostNames, problems, events, width, height }: DetailViewProps) {
  if (!row) return <Text dimColor>no resource selected</Text>;
  const mine = problems.filter((p) => p.resource === row.resource || p.resource === undefined);
  const lines: ReactElement[] = [
    <Text key="title" bold wrap="truncate">
      {truncate(`${row.key}  ${row.device}  config ${row.sides[0].configHash || row.sides[1].configHash || '?'}`, width)}
    </Text>,
    ...hostLines(model, row, 0, hostNames, width, now),
    ...hostLines(model, row, 1, hostNames, width, now),
  ];
  const svc = serviceAddressWhere(row, hostNames);
  if (svc) {
    lines.push(
      <Text key="svc" wrap="truncate">
        {truncate(svc, width)}
      </Text>,
    );
  }
  if (row.sync) lines.push(<SyncBar key="sync" sync={row.sync} hostNames={hostNames} width={width} />);
  for (const p of mine) {
    lines.push(
      <Text key={'p' + p.id} {...severityStyle(p.severity)} wrap="truncate">
        {truncate(`${SEVERITY_ICON[p.severity]} ${p.text.replace(/\s*\n\s*/g, ' ')}`, width)}
      </Text>,
    );
    if (p.advice) {
      lines.push(
        <Text key={'a' + p.id} dimColor wrap="truncate">
          {truncate(`  → ${p.advice}`, width)}
        </Text>,
      );
    }
  }
  const shown = lines.slice(0, height);
  const mineEvents = events.filter((e) => e.resource === row.resource || e.resource === undefined);
  return (
    <Box flexDirection="column" width={width}>
      {shown}
      <EventLog events={mineEvents} width={width} maxLines={height - shown.length - 1} title={`events of ${row.resource}`} />
    </Box>
  );
}
