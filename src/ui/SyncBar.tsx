import { Text } from './Text.js';
import type { SyncProgress } from '../cluster/model.js';
import { fmtEta, fmtKiB, progressBar, sparkline } from './format.js';

/** `↳ ha-a→ha-b [███░░] 62.50% 39.8 MiB/s ETA 10s ▁▇█ 384.0 MiB left`, fitted to `width`. */
export function syncLine(sync: SyncProgress, hostNames: [string, string], width: number): { prefix: string; bar: string; suffix: string; spark: string } {
  const dir = sync.source !== undefined && sync.target !== undefined ? `${hostNames[sync.source]}→${hostNames[sync.target]}` : sync.replication;
  const what = sync.verify ? 'verify ' : sync.paused ? 'paused ' : '';
  const prefix = `  ↳ ${what}${dir} `;
  const done = sync.done !== undefined ? ` ${sync.done.toFixed(2)}%` : ' --.--%';
  const rate = sync.rateMiBs !== undefined ? ` ${sync.rateMiBs.toFixed(1)} MiB/s` : '';
  const eta = sync.etaS !== undefined ? ` ETA ${fmtEta(sync.etaS)}` : '';
  let suffix = `${done}${rate}${eta}`;
  const left = ` ${fmtKiB(sync.outOfSyncKiB)} left`;
  let sparkW = Math.min(12, sync.rateHistory.length);
  let barW = width - prefix.length - suffix.length - (sparkW ? sparkW + 1 : 0);
  if (barW - left.length >= 12) {
    suffix += left;
    barW -= left.length;
  }
  if (barW < 8) {
    sparkW = 0;
    barW = width - prefix.length - suffix.length;
  }
  barW = Math.max(5, Math.min(barW, 40));
  return { prefix, bar: progressBar(sync.done ?? 0, barW), suffix, spark: sparkW ? ' ' + sparkline(sync.rateHistory, sparkW) : '' };
}

export function SyncBar({ sync, hostNames, width }: { sync: SyncProgress; hostNames: [string, string]; width: number }) {
  const l = syncLine(sync, hostNames, width);
  return (
    <Text wrap="truncate">
      {l.prefix}
      <Text color={sync.paused ? 'yellow' : 'red'}>{l.bar}</Text>
      <Text bold>{l.suffix}</Text>
      <Text color="cyan">{l.spark}</Text>
    </Text>
  );
}
