// Operational key negotiation (RFC 7143 §13), pure: the initiator's offers and the
// current parameters in, the answers and the new parameters out.
import type { KeyValues } from './text.js';

export interface SessionParams {
  headerDigest: boolean;
  dataDigest: boolean;
  /** What the initiator declared it can receive: our Data-In/text PDUs stay within it. */
  initiatorMaxRecvDataSegmentLength: number;
  initialR2T: boolean;
  immediateData: boolean;
  firstBurstLength: number;
  maxBurstLength: number;
  maxOutstandingR2T: number;
  defaultTime2Wait: number;
  defaultTime2Retain: number;
  dataPDUInOrder: boolean;
  dataSequenceInOrder: boolean;
  errorRecoveryLevel: number;
  maxConnections: number;
}

/** RFC defaults, in force until negotiated otherwise. */
export const DEFAULT_PARAMS: SessionParams = {
  headerDigest: false,
  dataDigest: false,
  initiatorMaxRecvDataSegmentLength: 8192,
  initialR2T: true,
  immediateData: true,
  firstBurstLength: 65536,
  maxBurstLength: 262144,
  maxOutstandingR2T: 1,
  defaultTime2Wait: 2,
  defaultTime2Retain: 20,
  dataPDUInOrder: true,
  dataSequenceInOrder: true,
  errorRecoveryLevel: 0,
  maxConnections: 1,
};

/** What the target is willing to do: the other side of every min/max/AND/OR. */
export interface TargetLimits {
  maxRecvDataSegmentLength: number;
  initialR2T: boolean;
  immediateData: boolean;
  firstBurstLength: number;
  maxBurstLength: number;
  maxOutstandingR2T: number;
  digests: boolean;
}

export const DEFAULT_LIMITS: TargetLimits = {
  maxRecvDataSegmentLength: 262144,
  initialR2T: false,
  immediateData: true,
  firstBurstLength: 262144,
  maxBurstLength: 1048576,
  maxOutstandingR2T: 8,
  digests: true,
};

const MAX_24BIT = 16777215;

type NumKey = 'firstBurstLength' | 'maxBurstLength' | 'maxOutstandingR2T' | 'defaultTime2Wait' | 'defaultTime2Retain' | 'errorRecoveryLevel' | 'maxConnections';
type BoolKey = 'initialR2T' | 'immediateData' | 'dataPDUInOrder' | 'dataSequenceInOrder';

const NUMERIC: Record<string, { field: NumKey; fn: 'min' | 'max'; lo: number; hi: number; ours: (l: TargetLimits) => number }> = {
  FirstBurstLength: { field: 'firstBurstLength', fn: 'min', lo: 512, hi: MAX_24BIT, ours: (l) => l.firstBurstLength },
  MaxBurstLength: { field: 'maxBurstLength', fn: 'min', lo: 512, hi: MAX_24BIT, ours: (l) => l.maxBurstLength },
  MaxOutstandingR2T: { field: 'maxOutstandingR2T', fn: 'min', lo: 1, hi: 65535, ours: (l) => l.maxOutstandingR2T },
  DefaultTime2Wait: { field: 'defaultTime2Wait', fn: 'max', lo: 0, hi: 3600, ours: () => 2 },
  DefaultTime2Retain: { field: 'defaultTime2Retain', fn: 'min', lo: 0, hi: 3600, ours: () => 0 },
  // Error recovery beyond level 0 and multiple connections per session are not offered.
  ErrorRecoveryLevel: { field: 'errorRecoveryLevel', fn: 'min', lo: 0, hi: 2, ours: () => 0 },
  MaxConnections: { field: 'maxConnections', fn: 'min', lo: 1, hi: 65535, ours: () => 1 },
};

const BOOLEAN: Record<string, { field: BoolKey; fn: 'or' | 'and'; ours: (l: TargetLimits) => boolean }> = {
  InitialR2T: { field: 'initialR2T', fn: 'or', ours: (l) => l.initialR2T },
  ImmediateData: { field: 'immediateData', fn: 'and', ours: (l) => l.immediateData },
  // Out-of-order data would need ERL>0 bookkeeping we do not do: insist on order.
  DataPDUInOrder: { field: 'dataPDUInOrder', fn: 'or', ours: () => true },
  DataSequenceInOrder: { field: 'dataSequenceInOrder', fn: 'or', ours: () => true },
};

/** Keys meaningless in a discovery session (§13.x "Irrelevant when: SessionType=Discovery"). */
const NORMAL_ONLY = new Set(['InitialR2T', 'ImmediateData', 'FirstBurstLength', 'MaxBurstLength', 'MaxOutstandingR2T', 'DataPDUInOrder', 'DataSequenceInOrder', 'MaxConnections', 'DefaultTime2Wait', 'DefaultTime2Retain']);

export interface NegotiationResult {
  params: SessionParams;
  answers: KeyValues;
  /** Keys the initiator sent with an unacceptable value (answered "Reject"). */
  rejected: string[];
}

function parseNumber(v: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(v)) return parseInt(v.slice(2), 16);
  if (/^\d+$/.test(v)) return Number(v);
  return undefined;
}

function parseBool(v: string): boolean | undefined {
  return v === 'Yes' ? true : v === 'No' ? false : undefined;
}

/**
 * Answers one batch of operational keys. Keys the login layer owns (names, AuthMethod,
 * CHAP_*) must have been taken out already; anything left that we do not know is
 * answered NotUnderstood.
 */
export function negotiate(offers: KeyValues, current: SessionParams, limits: TargetLimits, discovery: boolean): NegotiationResult {
  const params = { ...current };
  const answers: KeyValues = [];
  const rejected: string[] = [];
  for (const [key, value] of offers) {
    if (discovery && NORMAL_ONLY.has(key)) {
      answers.push([key, 'Irrelevant']);
      continue;
    }
    if (key === 'HeaderDigest' || key === 'DataDigest') {
      const offered = value.split(',');
      const pick = offered.find((o) => o === 'None' || (o === 'CRC32C' && limits.digests));
      if (!pick) {
        answers.push([key, 'Reject']);
        rejected.push(key);
        continue;
      }
      params[key === 'HeaderDigest' ? 'headerDigest' : 'dataDigest'] = pick === 'CRC32C';
      answers.push([key, pick]);
      continue;
    }
    if (key === 'MaxRecvDataSegmentLength') {
      const n = parseNumber(value);
      if (n === undefined || n < 512 || n > MAX_24BIT) {
        answers.push([key, 'Reject']);
        rejected.push(key);
        continue;
      }
      // Declarative: we note theirs; ours is declared separately by the login layer.
      params.initiatorMaxRecvDataSegmentLength = n;
      continue;
    }
    const num = NUMERIC[key];
    if (num) {
      const n = parseNumber(value);
      if (n === undefined || n < num.lo || n > num.hi) {
        answers.push([key, 'Reject']);
        rejected.push(key);
        continue;
      }
      const ours = num.ours(limits);
      const result = num.fn === 'min' ? Math.min(n, ours) : Math.max(n, ours);
      params[num.field] = result;
      answers.push([key, String(result)]);
      continue;
    }
    const bool = BOOLEAN[key];
    if (bool) {
      const b = parseBool(value);
      if (b === undefined) {
        answers.push([key, 'Reject']);
        rejected.push(key);
        continue;
      }
      const ours = bool.ours(limits);
      const result = bool.fn === 'or' ? b || ours : b && ours;
      params[bool.field] = result;
      answers.push([key, result ? 'Yes' : 'No']);
      continue;
    }
    if (key === 'IFMarker' || key === 'OFMarker') {
      answers.push([key, 'No']);
      continue;
    }
    if (key === 'OFMarkInt' || key === 'IFMarkInt') {
      answers.push([key, 'Irrelevant']);
      continue;
    }
    if (key === 'InitiatorAlias') continue;
    answers.push([key, 'NotUnderstood']);
  }
  if (params.firstBurstLength > params.maxBurstLength) params.firstBurstLength = params.maxBurstLength;
  return { params, answers, rejected };
}
