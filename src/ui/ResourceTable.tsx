import { Box } from 'ink';
import { Text } from './Text.js';
import { NOT_UP_WORDS } from '../../agent/protocol/not-up.js';
import type { ClusterModel, HostIndex, HostSide, ResourceRow } from '../cluster/model.js';
import { outOfSight, outOfSightAge, type OutOfSight } from '../cluster/last-known.js';
import { stateStyle } from './colors.js';
import { fit, fmtKiB } from './format.js';
import { hostBlockWidth, type TableColumns } from './layout.js';
import { SyncBar } from './SyncBar.js';

export type TableLine = { kind: 'row'; row: number } | { kind: 'sync'; row: number } | { kind: 'verified'; row: number };

/** The last online verify's result, once it has ended: what the host that ran it found, in KiB. */
export function verifyResult(r: ResourceRow, hostNames: [string, string]): { text: string; differs: boolean } | undefined {
  if (r.sync) return undefined;
  const i = ([0, 1] as const).find((h) => r.sides[h].reachable && r.sides[h].peerDevice?.verifyMismatch !== undefined);
  if (i === undefined) return undefined;
  const kib = r.sides[i].peerDevice!.verifyMismatch!;
  const pair = `${hostNames[i]}↔${hostNames[i === 0 ? 1 : 0]}`;
  return { text: `  ↳ verified ${pair}: ${fmtKiB(kib)} out of sync${kib > 0 ? ' (marked; disconnect + connect resyncs them)' : ''}`, differs: kib > 0 };
}

export function tableLines(rows: ResourceRow[], hostNames: [string, string]): TableLine[] {
  return rows.flatMap((r, i): TableLine[] => {
    const row: TableLine = { kind: 'row', row: i };
    if (r.sync) return [row, { kind: 'sync', row: i }];
    return verifyResult(r, hostNames) ? [row, { kind: 'verified', row: i }] : [row];
  });
}

/** The visible slice: all of it if it fits, else a window that keeps the selected row (and its sync line) in view. */
export function tableWindow(lines: TableLine[], selected: number, max: number): TableLine[] {
  if (lines.length <= max) return lines;
  const first = lines.findIndex((l) => l.row === selected);
  const last = lines.length - 1 - [...lines].reverse().findIndex((l) => l.row === selected);
  let start = Math.max(0, Math.min(first, lines.length - max));
  if (last >= start + max) start = last - max + 1;
  return lines.slice(start, start + max);
}

/** What the link column says: the connection state unless Connected, then the replication state unless Established. */
export function linkWord(s: HostSide): string {
  if (s.connection !== 'Connected') return s.connection;
  return s.replication === 'Established' ? 'Connected' : s.replication;
}

export function sessionsWord(s: HostSide): string {
  if (!s.target) return '';
  return s.target.state === 'running' ? String(s.target.sessions.length) : '-';
}

function Cell({ word, width, stale = false }: { word: string; width: number; stale?: boolean }) {
  const style = stale ? { dimColor: true } : stateStyle(word);
  return (
    <Text {...style} wrap="truncate">
      {fit(word, width)}
    </Text>
  );
}

/** A host out of sight: its last known role and disk, dimmed, and instead of its links how old that knowledge is. */
function KnownCells({ known, cols, now }: { known: OutOfSight; cols: TableColumns; now: number }) {
  const rest = hostBlockWidth(cols) - cols.role - 1 - cols.disk - 1;
  return (
    <>
      <Cell word={known.role === 'Unknown' ? '?' : known.role} width={cols.role + 1} stale />
      <Cell word={known.disk} width={cols.disk + 1} stale />
      <Text color="red">✖ </Text>
      <Text dimColor>{fit(outOfSightAge(known, now), rest - 2)}</Text>
    </>
  );
}

function HostCells({ side, known, cols, now }: { side: HostSide; known: OutOfSight | undefined; cols: TableColumns; now: number }) {
  if (known) return <KnownCells known={known} cols={cols} now={now} />;
  if (!side.present) {
    const w = hostBlockWidth(cols);
    const n = side.notUp;
    if (n && side.reachable) return <Text color={NOT_UP_WORDS[n.cause].broken ? 'red' : 'yellow'}>{fit(NOT_UP_WORDS[n.cause].short, w)}</Text>;
    return <Text dimColor>{fit(side.reachable ? 'not up' : '?', w)}</Text>;
  }
  return (
    <>
      <Cell word={side.role} width={cols.role + 1} />
      <Cell word={side.disk} width={cols.disk + 1} />
      <Cell word={linkWord(side)} width={cols.link + 1} />
      {cols.peerDisk ? <Cell word={side.peerDisk} width={cols.peerDisk + 1} /> : null}
      <Text color="cyan">{fit(sessionsWord(side), cols.sessions)}</Text>
    </>
  );
}

export interface ResourceTableProps {
  model: ClusterModel;
  rows: ResourceRow[];
  /** For how old the last known state of a host out of sight is (epoch ms). */
  now: number;
  hostNames: [string, string];
  cols: TableColumns;
  selected: number;
  host: HostIndex;
  width: number;
  maxLines: number;
  /** Rows are what a filter left: none says so, not that there are none. */
  filtered?: boolean;
}

/** One line per resource/volume with both hosts side by side, plus a progress line under each syncing volume. */
export function ResourceTable({ model, rows, now, hostNames, cols, selected, host, width, maxLines, filtered = false }: ResourceTableProps) {
  const block = hostBlockWidth(cols);
  const head = (i: HostIndex) => {
    const sub = ['role', 'disk', 'link', ...(cols.peerDisk ? ['peer-disk'] : [])];
    const widths = [cols.role, cols.disk, cols.link, ...(cols.peerDisk ? [cols.peerDisk] : [])];
    const name = hostNames[i];
    // Host name over its role column, the other headings beside it.
    const text = fit(name, widths[0]!) + ' ' + sub.slice(1).map((s, k) => fit(s, widths[k + 1]!)).join(' ') + ' ' + fit('iS', cols.sessions);
    return (
      <Text inverse={i === host} bold wrap="truncate">
        {fit(text, block)}
      </Text>
    );
  };
  const lines = tableWindow(tableLines(rows, hostNames), selected, Math.max(1, maxLines - 1));
  return (
    <Box flexDirection="column" width={width}>
      <Box height={1}>
        <Text bold>{fit('res', cols.name)}</Text>
        {head(0)}
        <Text> </Text>
        {head(1)}
      </Box>
      {rows.length === 0 ? <Text dimColor>{filtered ? 'no resource matches the filter' : 'no resources yet'}</Text> : null}
      {lines.map((l) => {
        const r = rows[l.row]!;
        if (l.kind === 'sync') {
          return <SyncBar key={`${r.key}:sync`} sync={r.sync!} hostNames={hostNames} width={width} />;
        }
        if (l.kind === 'verified') {
          const v = verifyResult(r, hostNames)!;
          return (
            <Text key={`${r.key}:verified`} dimColor={!v.differs} color={v.differs ? 'yellow' : undefined} wrap="truncate">
              {v.text}
            </Text>
          );
        }
        return (
          <Box key={r.key} height={1}>
            <Text inverse={l.row === selected} bold={l.row === selected}>
              {fit(r.key, cols.name - 1)}
            </Text>
            <Text> </Text>
            <HostCells side={r.sides[0]} known={outOfSight(model, r, 0)} cols={cols} now={now} />
            <Text> </Text>
            <HostCells side={r.sides[1]} known={outOfSight(model, r, 1)} cols={cols} now={now} />
          </Box>
        );
      })}
    </Box>
  );
}
