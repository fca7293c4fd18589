// What the runbooks read of the pair: one resource's sides on a host, as plain predicates over
// the ClusterModel. The steps, their waits and blockers all ask through these.
import { resourceRows, sessionInitiators, type ClusterModel, type HostIndex, type HostSide } from '../cluster/model.js';

export const other = (h: HostIndex): HostIndex => (h === 0 ? 1 : 0);

/** Every volume's side of `resource` on host `h`. */
export function sidesOf(m: ClusterModel, resource: string, h: HostIndex): HostSide[] {
  return resourceRows(m)
    .filter((r) => r.resource === resource)
    .map((r) => r.sides[h]);
}

export const firstSide = (m: ClusterModel, resource: string, h: HostIndex): HostSide | undefined => sidesOf(m, resource, h)[0];
export const reachable = (m: ClusterModel, h: HostIndex): boolean => m.hosts[h].reach.state === 'up';
/** The resource is up on `h` (as last seen). */
export const isUp = (m: ClusterModel, resource: string, h: HostIndex): boolean => sidesOf(m, resource, h).some((s) => s.present);
export const targetRunning = (m: ClusterModel, resource: string, h: HostIndex): boolean => firstSide(m, resource, h)?.target?.state === 'running';
export const hasTarget = (m: ClusterModel, resource: string, h: HostIndex): boolean => firstSide(m, resource, h)?.target !== undefined;
export const isPrimary = (m: ClusterModel, resource: string, h: HostIndex): boolean => {
  const s = firstSide(m, resource, h);
  return s?.present === true && s.role === 'Primary';
};
export const allUpToDate = (m: ClusterModel, resource: string, h: HostIndex): boolean => {
  const s = sidesOf(m, resource, h);
  return s.length > 0 && s.every((x) => x.present && x.disk === 'UpToDate');
};
export const connected = (m: ClusterModel, resource: string, h: HostIndex): boolean => {
  const s = sidesOf(m, resource, h);
  return s.length > 0 && s.every((x) => x.present && x.connection === 'Connected');
};
/** Connected with no resync running: the peer's data is usable now, not after a sync. */
export const established = (m: ClusterModel, resource: string, h: HostIndex): boolean =>
  connected(m, resource, h) && sidesOf(m, resource, h).every((x) => x.replication === 'Established');
export const standalone = (m: ClusterModel, resource: string, h: HostIndex): boolean => sidesOf(m, resource, h).some((s) => s.present && s.connection === 'StandAlone');

/** The initiators logged in to `h`'s target of `resource`. */
export function sessionsOn(m: ClusterModel, resource: string, h: HostIndex): string[] {
  return sessionInitiators(firstSide(m, resource, h));
}

/** The host whose last known role of `resource` is Primary (reachable or not). */
export function primaryHost(m: ClusterModel, resource: string): HostIndex | undefined {
  return ([0, 1] as const).find((h) => isPrimary(m, resource, h));
}

/** Out-of-sync KiB each side recorded since the split: how much that side would lose as the victim. */
export function splitBrainChanges(m: ClusterModel, resource: string): [number, number] {
  const sum = (h: HostIndex) => sidesOf(m, resource, h).reduce((n, s) => n + (s.peerDevice?.outOfSync ?? 0), 0);
  return [sum(0), sum(1)];
}

export function hasSplitBrain(m: ClusterModel, resource: string): boolean {
  return ([0, 1] as const).some((h) => sidesOf(m, resource, h).some((s) => s.present && s.splitBrain));
}
