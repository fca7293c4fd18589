// The login phase of one connection (RFC 7143 §6.3), pure: stages security (0) →
// operational (1) → full feature (3) driven by the T bit and CSG/NSG, with names, CHAP
// and operational keys answered along the way.
import { chapStep, type ChapConfig, type ChapState } from './chap.js';
import { DEFAULT_PARAMS, negotiate, type SessionParams, type TargetLimits } from './negotiation.js';
import type { KeyValues } from './text.js';
import { parseIscsiName } from '../config/values.js';
import { untrustedText } from '../protocol/untrusted-text.js';

/** How much of a refused name a log line quotes: enough to recognise it. */
const QUOTED_NAME = 80;

export const Stage = { Security: 0, Operational: 1, FullFeature: 3 } as const;

export const LoginStatus = {
  Success: 0x0000,
  InitiatorError: 0x0200,
  AuthFailure: 0x0201,
  Forbidden: 0x0202,
  NotFound: 0x0203,
  UnsupportedVersion: 0x0205,
  TooManyConnections: 0x0206,
  MissingParameter: 0x0207,
  SessionDoesNotExist: 0x020a,
  InvalidDuringLogin: 0x020b,
  TargetError: 0x0300,
  ServiceUnavailable: 0x0301,
} as const;

export interface LoginConfig {
  iqn: string;
  alias?: string;
  tpgt: number;
  chap?: ChapConfig;
  limits: TargetLimits;
  /** Initiator names allowed to log in; absent: any. */
  allowedInitiators?: string[];
}

export interface LoginState {
  /** The stage the next request must be in. */
  stage: number;
  first: boolean;
  initiatorName?: string;
  initiatorAlias?: string;
  targetName?: string;
  sessionType: 'Normal' | 'Discovery';
  authMethod?: 'CHAP' | 'None';
  authenticated: boolean;
  chap: ChapState;
  params: SessionParams;
  declared: boolean;
}

export function initialLoginState(): LoginState {
  return { stage: Stage.Security, first: true, sessionType: 'Normal', authenticated: false, chap: { step: 'want-algorithm' }, params: { ...DEFAULT_PARAMS }, declared: false };
}

export interface LoginInput {
  transit: boolean;
  csg: number;
  nsg: number;
  versionMin: number;
  versionMax: number;
  keys: KeyValues;
}

export interface LoginReply {
  transit: boolean;
  csg: number;
  nsg: number;
  status: number;
  keys: KeyValues;
}

export type LoginStep =
  | { kind: 'reply'; state: LoginState; reply: LoginReply }
  /** The last reply: the connection enters full feature phase. */
  | { kind: 'complete'; state: LoginState; reply: LoginReply }
  | { kind: 'fail'; reply: LoginReply; reason: string };

const OWNED = new Set(['InitiatorName', 'TargetName', 'SessionType', 'AuthMethod', 'InitiatorAlias', 'TargetAlias', 'TargetAddress', 'TargetPortalGroupTag']);

function fail(input: LoginInput, status: number, reason: string): LoginStep {
  return { kind: 'fail', reason, reply: { transit: false, csg: input.csg, nsg: 0, status, keys: [] } };
}

function get(keys: KeyValues, name: string): string | undefined {
  return keys.find(([k]) => k === name)?.[1];
}

/** iSCSI names compare without case (RFC 3722 folds them to lower case). */
export function initiatorAllowed(name: string, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined) return true;
  const n = name.toLowerCase();
  return allowed.some((a) => a.toLowerCase() === n);
}

/** One Login Request (its keys already gathered across C-bit continuations) → one response. */
export function loginStep(prev: LoginState, input: LoginInput, config: LoginConfig, random: Buffer): LoginStep {
  const state: LoginState = { ...prev, params: { ...prev.params } };
  if (input.versionMin > 0) return fail(input, LoginStatus.UnsupportedVersion, `unsupported iSCSI version ${input.versionMin}`);
  if (input.csg === 2 || input.csg !== (state.first ? input.csg : state.stage)) {
    return fail(input, LoginStatus.InitiatorError, `login request in stage ${input.csg}, expected ${state.stage}`);
  }
  if (input.transit && (input.nsg === 2 || input.nsg <= input.csg)) {
    return fail(input, LoginStatus.InitiatorError, `invalid next stage ${input.nsg} from ${input.csg}`);
  }
  const answers: KeyValues = [];

  if (state.first) {
    const initiator = get(input.keys, 'InitiatorName');
    if (!initiator) return fail(input, LoginStatus.MissingParameter, 'InitiatorName missing');
    // RFC 3722 names, checked the way the config checks ours: anything else (an escape
    // sequence, a newline, 64 KiB) is an initiator error before it reaches a log or a screen.
    const initiatorOk = parseIscsiName(initiator);
    if (!initiatorOk.ok) return fail(input, LoginStatus.InitiatorError, `InitiatorName ${untrustedText(initiatorOk.message, QUOTED_NAME * 2)}`);
    if (!initiatorAllowed(initiator, config.allowedInitiators)) return fail(input, LoginStatus.Forbidden, `initiator ${initiator} is not in allowed-initiators`);
    state.initiatorName = initiator;
    state.initiatorAlias = get(input.keys, 'InitiatorAlias');
    const type = get(input.keys, 'SessionType') ?? 'Normal';
    if (type !== 'Normal' && type !== 'Discovery') return fail(input, LoginStatus.InitiatorError, `unknown SessionType ${untrustedText(type, QUOTED_NAME)}`);
    state.sessionType = type;
    if (type === 'Normal') {
      const target = get(input.keys, 'TargetName');
      if (!target) return fail(input, LoginStatus.MissingParameter, 'TargetName missing');
      const targetOk = parseIscsiName(target);
      if (!targetOk.ok) return fail(input, LoginStatus.InitiatorError, `TargetName ${untrustedText(targetOk.message, QUOTED_NAME * 2)}`);
      if (targetOk.value !== config.iqn.toLowerCase()) return fail(input, LoginStatus.NotFound, `no target ${untrustedText(target, QUOTED_NAME)}`);
      state.targetName = target;
      answers.push(['TargetPortalGroupTag', String(config.tpgt)]);
      if (config.alias) answers.push(['TargetAlias', config.alias]);
    }
    state.stage = input.csg;
    state.first = false;
    if (input.csg !== Stage.Security && config.chap) return fail(input, LoginStatus.AuthFailure, 'authentication required');
    if (input.csg !== Stage.Security) state.authenticated = true;
  }

  const chapKeys: KeyValues = [];
  const rest: KeyValues = [];
  for (const kv of input.keys) {
    if (kv[0].startsWith('CHAP_')) chapKeys.push(kv);
    else if (!OWNED.has(kv[0])) rest.push(kv);
  }

  let authDone = state.authenticated;
  if (state.stage === Stage.Security) {
    const offered = get(input.keys, 'AuthMethod');
    if (offered !== undefined && state.authMethod === undefined) {
      const list = offered.split(',');
      if (config.chap) {
        if (!list.includes('CHAP')) return fail(input, LoginStatus.AuthFailure, 'CHAP required, initiator does not offer it');
        state.authMethod = 'CHAP';
      } else {
        if (!list.includes('None')) return fail(input, LoginStatus.AuthFailure, 'initiator offers no authentication method we accept');
        state.authMethod = 'None';
      }
      answers.push(['AuthMethod', state.authMethod]);
    }
    if (state.authMethod === undefined && config.chap) {
      if (input.transit) return fail(input, LoginStatus.AuthFailure, 'authentication required');
    }
    if (state.authMethod === 'CHAP' && config.chap && chapKeys.length > 0) {
      const r = chapStep(state.chap, chapKeys, config.chap, random);
      if (r.kind === 'fail') return fail(input, r.detail === 'missing' ? LoginStatus.MissingParameter : LoginStatus.AuthFailure, r.reason);
      state.chap = r.state;
      answers.push(...r.answers);
      if (r.kind === 'success') state.authenticated = true;
    } else if (state.authMethod === 'None' || (!config.chap && state.authMethod === undefined)) {
      state.authenticated = true;
    }
    authDone = state.authenticated;
  } else if (chapKeys.length > 0) {
    for (const [k] of chapKeys) answers.push([k, 'Irrelevant']);
  }

  const neg = negotiate(rest, state.params, config.limits, state.sessionType === 'Discovery');
  state.params = neg.params;
  answers.push(...neg.answers);
  if (state.stage === Stage.Operational || (input.transit && input.nsg === Stage.Operational) || (input.transit && input.nsg === Stage.FullFeature)) {
    if (!state.declared) {
      answers.push(['MaxRecvDataSegmentLength', String(config.limits.maxRecvDataSegmentLength)]);
      state.declared = true;
    }
  }

  // Transit only once the stage's business is done: authentication in the security stage.
  const canTransit = input.transit && (state.stage !== Stage.Security || authDone);
  if (input.transit && !canTransit && state.chap.step === 'done') {
    return fail(input, LoginStatus.AuthFailure, 'authentication incomplete');
  }
  const reply: LoginReply = { transit: canTransit, csg: state.stage, nsg: canTransit ? input.nsg : 0, status: LoginStatus.Success, keys: answers };
  if (canTransit) {
    state.stage = input.nsg;
    if (input.nsg === Stage.FullFeature) return { kind: 'complete', state, reply };
  }
  return { kind: 'reply', state, reply };
}
