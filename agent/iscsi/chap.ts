// CHAP (RFC 1994) as iSCSI uses it (RFC 7143 §12.1.3), pure: MD5 only, one-way and
// mutual. Randomness comes in from the caller so every step is deterministic in tests.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { KeyValues } from './text.js';

export interface ChapConfig {
  /** The name and secret the initiator must present. */
  user: string;
  secret: string;
  /** For mutual CHAP: how the target proves itself to the initiator. */
  targetUser?: string;
  targetSecret?: string;
}

export type ChapState =
  | { step: 'want-algorithm' }
  | { step: 'want-response'; id: number; challenge: Buffer }
  | { step: 'done' };

export type ChapOutcome =
  | { kind: 'continue'; state: ChapState; answers: KeyValues }
  | { kind: 'success'; state: ChapState; answers: KeyValues }
  | { kind: 'fail'; detail: 'auth' | 'missing'; reason: string };

/** Decodes a CHAP binary value: 0x/0X hex or 0b/0B base64 (RFC 7143 §6.1 binary-value). */
export function decodeBinary(v: string): Buffer | undefined {
  const prefix = v.slice(0, 2).toLowerCase();
  const body = v.slice(2);
  if (prefix === '0x') {
    const hex = body.length % 2 ? `0${body}` : body;
    if (!/^[0-9a-fA-F]+$/.test(hex)) return undefined;
    return Buffer.from(hex, 'hex');
  }
  if (prefix === '0b') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
    return Buffer.from(body, 'base64');
  }
  return undefined;
}

export function encodeHex(b: Buffer): string {
  return `0x${b.toString('hex')}`;
}

/** RFC 1994 §4.1: MD5 over identifier ‖ secret ‖ challenge. */
export function chapResponse(id: number, secret: Buffer | string, challenge: Buffer): Buffer {
  return createHash('md5')
    .update(Buffer.from([id & 0xff]))
    .update(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret)
    .update(challenge)
    .digest();
}

function get(keys: KeyValues, name: string): string | undefined {
  return keys.find(([k]) => k === name)?.[1];
}

export const CHAP_CHALLENGE_LENGTH = 16;

/**
 * One security-stage exchange. `random` supplies the identifier (first byte) and the
 * challenge (the rest) when the target must issue one.
 */
export function chapStep(state: ChapState, keys: KeyValues, config: ChapConfig, random: Buffer): ChapOutcome {
  if (state.step === 'want-algorithm') {
    const algs = get(keys, 'CHAP_A');
    if (algs === undefined) return { kind: 'continue', state, answers: [] };
    if (!algs.split(',').includes('5')) return { kind: 'fail', detail: 'auth', reason: 'initiator offers no CHAP algorithm we support (MD5)' };
    const id = random[0] as number;
    const challenge = Buffer.from(random.subarray(1, 1 + CHAP_CHALLENGE_LENGTH));
    return {
      kind: 'continue',
      state: { step: 'want-response', id, challenge },
      answers: [
        ['CHAP_A', '5'],
        ['CHAP_I', String(id)],
        ['CHAP_C', encodeHex(challenge)],
      ],
    };
  }
  if (state.step === 'done') return { kind: 'fail', detail: 'auth', reason: 'CHAP already completed' };

  const name = get(keys, 'CHAP_N');
  const resp = get(keys, 'CHAP_R');
  if (name === undefined || resp === undefined) return { kind: 'fail', detail: 'missing', reason: 'CHAP_N and CHAP_R required' };
  const got = decodeBinary(resp);
  if (!got) return { kind: 'fail', detail: 'auth', reason: 'CHAP_R is not a binary value' };
  const want = chapResponse(state.id, config.secret, state.challenge);
  if (name !== config.user || got.length !== want.length || !timingSafeEqual(got, want)) {
    // Neither CHAP_N nor CHAP_R goes into the reason: an operator who typed the secret into the
    // name field would find it in the log.
    return { kind: 'fail', detail: 'auth', reason: 'CHAP authentication failed (wrong name or secret)' };
  }

  const theirId = get(keys, 'CHAP_I');
  const theirChallenge = get(keys, 'CHAP_C');
  if (theirId === undefined && theirChallenge === undefined) {
    return { kind: 'success', state: { step: 'done' }, answers: [] };
  }
  if (theirId === undefined || theirChallenge === undefined) return { kind: 'fail', detail: 'missing', reason: 'mutual CHAP needs both CHAP_I and CHAP_C' };
  if (config.targetUser === undefined || config.targetSecret === undefined) {
    return { kind: 'fail', detail: 'auth', reason: 'initiator asks for mutual CHAP but no target secret is configured' };
  }
  const idNum = Number(theirId);
  const ch = decodeBinary(theirChallenge);
  if (!/^\d+$/.test(theirId) || idNum > 255 || !ch || ch.length === 0) return { kind: 'fail', detail: 'auth', reason: 'malformed CHAP_I/CHAP_C' };
  // A reflected challenge would let an attacker use us as an oracle for our own response.
  if (ch.equals(state.challenge)) return { kind: 'fail', detail: 'auth', reason: 'initiator reflected our CHAP challenge' };
  if (config.targetSecret === config.secret) return { kind: 'fail', detail: 'auth', reason: 'mutual CHAP secrets must differ' };
  return {
    kind: 'success',
    state: { step: 'done' },
    answers: [
      ['CHAP_N', config.targetUser],
      ['CHAP_R', encodeHex(chapResponse(idNum, config.targetSecret, ch))],
    ],
  };
}
