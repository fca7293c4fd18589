// SPC-4 persistent reservations of one logical unit, pure: the state is plain data that
// a ReservationStore (agent/block/reservation-store.ts) persists, and each service action
// maps state + request to state + outcome.
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export const PrType = { WriteExclusive: 1, ExclusiveAccess: 3, WriteExclusiveRegistrantsOnly: 5, ExclusiveAccessRegistrantsOnly: 6, WriteExclusiveAllRegistrants: 7, ExclusiveAccessAllRegistrants: 8 } as const;
const VALID_TYPES = new Set<number>(Object.values(PrType));

export interface PrState {
  generation: number;
  /** I_T nexus → reservation key (16 hex digits). */
  registrations: Record<string, string>;
  reservation: { holder: string; type: number } | null;
}

export function emptyPrState(): PrState {
  return { generation: 0, registrations: {}, reservation: null };
}

/** Marks a deflated state; plain JSON (as the first agents wrote it) starts with '{'. */
const DEFLATED = 0x01;

/**
 * JSON, deflated: initiator names share long prefixes (iqn.1991-05.com.microsoft:...), so a
 * superblock's 1 KiB holds about three times the registrations plain JSON would.
 */
export function serializePr(s: PrState): Buffer {
  return Buffer.concat([Buffer.from([DEFLATED]), deflateRawSync(Buffer.from(JSON.stringify(s), 'utf8'))]);
}

export function deserializePr(b: Buffer | null): PrState {
  if (!b || b.length === 0) return emptyPrState();
  try {
    const json = b[0] === DEFLATED ? inflateRawSync(b.subarray(1), { maxOutputLength: 1 << 20 }) : b;
    const v = JSON.parse(json.toString('utf8')) as PrState;
    if (typeof v.generation !== 'number' || typeof v.registrations !== 'object' || v.registrations === null) return emptyPrState();
    return { generation: v.generation, registrations: { ...v.registrations }, reservation: v.reservation ?? null };
  } catch {
    return emptyPrState();
  }
}

const allRegistrants = (type: number): boolean => type === PrType.WriteExclusiveAllRegistrants || type === PrType.ExclusiveAccessAllRegistrants;
const registrantsOnly = (type: number): boolean => type === PrType.WriteExclusiveRegistrantsOnly || type === PrType.ExclusiveAccessRegistrantsOnly;

/** Whether nexus counts as the reservation holder (every registrant does for *_AR types). */
export function isHolder(s: PrState, nexus: string): boolean {
  if (!s.reservation) return false;
  if (allRegistrants(s.reservation.type)) return nexus in s.registrations;
  return s.reservation.holder === nexus;
}

/** SPC-4 table 39, reduced to the two access classes a block device has. */
export function prConflict(s: PrState, nexus: string, access: 'read' | 'write' | 'other'): boolean {
  const r = s.reservation;
  if (!r || access === 'other' || isHolder(s, nexus)) return false;
  const registered = nexus in s.registrations;
  switch (r.type) {
    case PrType.WriteExclusive:
      return access === 'write';
    case PrType.ExclusiveAccess:
      return true;
    case PrType.WriteExclusiveRegistrantsOnly:
    case PrType.WriteExclusiveAllRegistrants:
      return access === 'write' && !registered;
    case PrType.ExclusiveAccessRegistrantsOnly:
    case PrType.ExclusiveAccessAllRegistrants:
      return !registered;
    default:
      return false;
  }
}

export interface PrOutRequest {
  nexus: string;
  action: number;
  scope: number;
  type: number;
  key: bigint;
  saKey: bigint;
}

export type PrOutcome =
  | { kind: 'ok'; state: PrState; changed: boolean; unitAttentions: Array<{ nexus: string; asc: number; ascq: number }>; preempted: string[] }
  | { kind: 'conflict' }
  | { kind: 'invalid-field-cdb' }
  | { kind: 'invalid-field-param' }
  | { kind: 'invalid-release' };

const hex = (k: bigint): string => k.toString(16).padStart(16, '0');

function others(s: PrState, nexus: string): string[] {
  return Object.keys(s.registrations).filter((n) => n !== nexus);
}

/** PERSISTENT RESERVE OUT service actions 0–6 (REGISTER AND MOVE is not offered). */
export function prOut(prev: PrState, req: PrOutRequest): PrOutcome {
  const s: PrState = { generation: prev.generation, registrations: { ...prev.registrations }, reservation: prev.reservation ? { ...prev.reservation } : null };
  const mine = s.registrations[req.nexus];
  const ua: Array<{ nexus: string; asc: number; ascq: number }> = [];
  const preempted: string[] = [];
  const ok = (changed: boolean): PrOutcome => ({ kind: 'ok', state: s, changed, unitAttentions: ua, preempted });
  const keyMatches = mine !== undefined && mine === hex(req.key);

  switch (req.action) {
    case 0: // REGISTER
    case 6: {
      // REGISTER AND IGNORE EXISTING KEY
      if (req.action === 0) {
        if (mine === undefined && req.key !== 0n) return { kind: 'conflict' };
        if (mine !== undefined && !keyMatches) return { kind: 'conflict' };
      }
      if (req.saKey === 0n) {
        if (mine === undefined) return ok(false);
        delete s.registrations[req.nexus];
        releaseOnUnregister(s, req.nexus, ua);
      } else {
        s.registrations[req.nexus] = hex(req.saKey);
      }
      s.generation++;
      return ok(true);
    }
    case 1: {
      // RESERVE
      if (!keyMatches) return { kind: 'conflict' };
      if (req.scope !== 0 || !VALID_TYPES.has(req.type)) return { kind: 'invalid-field-cdb' };
      if (s.reservation) {
        if (!isHolder(s, req.nexus)) return { kind: 'conflict' };
        if (s.reservation.type !== req.type) return { kind: 'conflict' };
        return ok(false);
      }
      s.reservation = { holder: req.nexus, type: req.type };
      return ok(true);
    }
    case 2: {
      // RELEASE
      if (!keyMatches) return { kind: 'conflict' };
      if (!s.reservation || !isHolder(s, req.nexus)) return ok(false);
      if (req.scope !== 0 || s.reservation.type !== req.type) return { kind: 'invalid-release' };
      const type = s.reservation.type;
      s.reservation = null;
      if (registrantsOnly(type) || allRegistrants(type)) for (const n of others(s, req.nexus)) ua.push({ nexus: n, asc: 0x2a, ascq: 0x04 });
      return ok(true);
    }
    case 3: {
      // CLEAR
      if (!keyMatches) return { kind: 'conflict' };
      for (const n of others(s, req.nexus)) ua.push({ nexus: n, asc: 0x2a, ascq: 0x03 });
      s.registrations = {};
      s.reservation = null;
      s.generation++;
      return ok(true);
    }
    case 4:
    case 5: {
      // PREEMPT (and PREEMPT AND ABORT: the abort half is the caller's)
      if (!keyMatches) return { kind: 'conflict' };
      if (req.scope !== 0 || !VALID_TYPES.has(req.type)) return { kind: 'invalid-field-cdb' };
      const r = s.reservation;
      if (r && allRegistrants(r.type) && req.saKey === 0n) {
        for (const n of others(s, req.nexus)) {
          delete s.registrations[n];
          preempted.push(n);
          ua.push({ nexus: n, asc: 0x2a, ascq: 0x05 });
        }
        s.reservation = { holder: req.nexus, type: req.type };
        s.generation++;
        return ok(true);
      }
      if (req.saKey === 0n) return { kind: 'invalid-field-param' };
      const victims = Object.entries(s.registrations)
        .filter(([n, k]) => k === hex(req.saKey) && n !== req.nexus)
        .map(([n]) => n);
      const holderKey = r && !allRegistrants(r.type) ? s.registrations[r.holder] : undefined;
      const preemptsHolder = holderKey !== undefined && holderKey === hex(req.saKey);
      if (victims.length === 0 && !preemptsHolder) return { kind: 'conflict' };
      for (const n of victims) {
        delete s.registrations[n];
        preempted.push(n);
        ua.push({ nexus: n, asc: 0x2a, ascq: 0x05 });
      }
      if (preemptsHolder) s.reservation = { holder: req.nexus, type: req.type };
      s.generation++;
      return ok(true);
    }
    default:
      return { kind: 'invalid-field-cdb' };
  }
}

function releaseOnUnregister(s: PrState, nexus: string, ua: Array<{ nexus: string; asc: number; ascq: number }>): void {
  const r = s.reservation;
  if (!r) return;
  if (allRegistrants(r.type)) {
    if (Object.keys(s.registrations).length === 0) s.reservation = null;
    return;
  }
  if (r.holder !== nexus) return;
  s.reservation = null;
  if (registrantsOnly(r.type)) for (const n of Object.keys(s.registrations)) ua.push({ nexus: n, asc: 0x2a, ascq: 0x04 });
}

export function readKeys(s: PrState, alloc: number): Buffer {
  const keys = Object.values(s.registrations);
  const b = Buffer.alloc(8 + keys.length * 8);
  b.writeUInt32BE(s.generation >>> 0, 0);
  b.writeUInt32BE(keys.length * 8, 4);
  keys.forEach((k, i) => Buffer.from(k, 'hex').copy(b, 8 + i * 8));
  return b.subarray(0, Math.min(alloc, b.length));
}

export function readReservation(s: PrState, alloc: number): Buffer {
  const r = s.reservation;
  const b = Buffer.alloc(r ? 24 : 8);
  b.writeUInt32BE(s.generation >>> 0, 0);
  if (r) {
    b.writeUInt32BE(16, 4);
    const key = allRegistrants(r.type) ? undefined : s.registrations[r.holder];
    if (key) Buffer.from(key, 'hex').copy(b, 8);
    b[21] = r.type & 0x0f;
  }
  return b.subarray(0, Math.min(alloc, b.length));
}

export function reportCapabilities(alloc: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(8, 0);
  b[2] = 0x04 | 0x01; // ATP_C (one target port), PTPL_C; no SIP_C
  b[3] = 0x80 | (1 << 4) | 0x01; // TMV, ALLOW COMMANDS = 001b, PTPL_A: the store always persists
  b[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02; // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
  b[5] = 0x01; // EX_AC_AR
  return b.subarray(0, Math.min(alloc, b.length));
}

/** READ FULL STATUS: one descriptor per registration, with its iSCSI TransportID. */
export function readFullStatus(s: PrState, alloc: number): Buffer {
  const descs = Object.entries(s.registrations).map(([nexus, key]) => {
    const name = Buffer.from(`${nexus}\0`, 'utf8');
    const tidLen = 4 + ((name.length + 3) & ~3);
    const d = Buffer.alloc(24 + tidLen);
    Buffer.from(key, 'hex').copy(d, 0);
    const holder = isHolder(s, nexus);
    d[12] = holder ? 0x01 : 0;
    if (holder && s.reservation) d[13] = s.reservation.type & 0x0f;
    d.writeUInt16BE(1, 18); // relative target port identifier
    d.writeUInt32BE(tidLen, 20);
    d[24] = 0x40 | 0x05; // TransportID format 01b (name + ISID), protocol iSCSI
    d.writeUInt16BE(tidLen - 4, 26);
    name.copy(d, 28);
    return d;
  });
  const body = Buffer.concat(descs);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(s.generation >>> 0, 0);
  h.writeUInt32BE(body.length, 4);
  const b = Buffer.concat([h, body]);
  return b.subarray(0, Math.min(alloc, b.length));
}
