import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chapResponse, encodeHex } from '../../../agent/iscsi/chap.js';
import { initialLoginState, LoginStatus, loginStep, type LoginConfig, type LoginInput } from '../../../agent/iscsi/login.js';
import { DEFAULT_LIMITS } from '../../../agent/iscsi/negotiation.js';

const IQN = 'iqn.2026-11.test:t';
const config: LoginConfig = { iqn: IQN, tpgt: 1, limits: DEFAULT_LIMITS, alias: 'vol' };
const random = Buffer.alloc(17, 3);

const input = (over: Partial<LoginInput>): LoginInput => ({ transit: true, csg: 0, nsg: 1, versionMin: 0, versionMax: 0, keys: [], ...over });

test('no authentication: security → operational → full feature; TPGT first, MaxRecvDataSegmentLength declared', () => {
  const s1 = loginStep(initialLoginState(), input({ keys: [['InitiatorName', 'iqn.i'], ['TargetName', IQN], ['AuthMethod', 'CHAP,None']] }), config, random);
  assert.equal(s1.kind, 'reply');
  if (s1.kind !== 'reply') return;
  const k1 = Object.fromEntries(s1.reply.keys);
  assert.equal(k1.TargetPortalGroupTag, '1');
  assert.equal(k1.TargetAlias, 'vol');
  assert.equal(k1.AuthMethod, 'None');
  assert.equal(s1.reply.transit, true);
  assert.equal(s1.reply.nsg, 1);
  assert.equal(k1.MaxRecvDataSegmentLength, String(DEFAULT_LIMITS.maxRecvDataSegmentLength));
  const s2 = loginStep(s1.state, input({ csg: 1, nsg: 3, keys: [['ImmediateData', 'Yes'], ['MaxBurstLength', '262144']] }), config, random);
  assert.equal(s2.kind, 'complete');
  if (s2.kind !== 'complete') return;
  assert.equal(s2.state.params.maxBurstLength, 262144);
  assert.equal(Object.fromEntries(s2.reply.keys).MaxRecvDataSegmentLength, undefined, 'declared once');
});

test('status classes: missing names, unknown target, unsupported version, skipped security with CHAP', () => {
  const fail = (i: LoginInput, c: LoginConfig = config) => {
    const r = loginStep(initialLoginState(), i, c, random);
    assert.equal(r.kind, 'fail');
    return r.kind === 'fail' ? r.reply.status : -1;
  };
  assert.equal(fail(input({ keys: [['TargetName', IQN]] })), LoginStatus.MissingParameter);
  assert.equal(fail(input({ keys: [['InitiatorName', 'i']] })), LoginStatus.MissingParameter);
  assert.equal(fail(input({ keys: [['InitiatorName', 'i'], ['TargetName', 'iqn.other']] })), LoginStatus.NotFound);
  assert.equal(fail(input({ versionMin: 1, keys: [['InitiatorName', 'i'], ['TargetName', IQN]] })), LoginStatus.UnsupportedVersion);
  const chapCfg = { ...config, chap: { user: 'u', secret: 'secretsecret' } };
  assert.equal(fail(input({ csg: 1, nsg: 3, keys: [['InitiatorName', 'i'], ['TargetName', IQN]] }), chapCfg), LoginStatus.AuthFailure);
  assert.equal(fail(input({ keys: [['InitiatorName', 'i'], ['TargetName', IQN], ['AuthMethod', 'None']] }), chapCfg), LoginStatus.AuthFailure);
});

test('discovery sessions need no TargetName and get no TPGT', () => {
  const r = loginStep(initialLoginState(), input({ csg: 1, nsg: 3, keys: [['InitiatorName', 'i'], ['SessionType', 'Discovery']] }), config, random);
  assert.equal(r.kind, 'complete');
  if (r.kind !== 'complete') return;
  assert.equal(r.state.sessionType, 'Discovery');
  assert.equal(Object.fromEntries(r.reply.keys).TargetPortalGroupTag, undefined);
});

test('CHAP: transit is held back until the response checks out', () => {
  const chapCfg = { ...config, chap: { user: 'u', secret: 'secretsecret' } };
  const s1 = loginStep(initialLoginState(), input({ keys: [['InitiatorName', 'i'], ['TargetName', IQN], ['AuthMethod', 'CHAP']] }), chapCfg, random);
  assert.ok(s1.kind === 'reply' && !s1.reply.transit);
  if (s1.kind !== 'reply') return;
  const s2 = loginStep(s1.state, input({ keys: [['CHAP_A', '5']] }), chapCfg, random);
  assert.ok(s2.kind === 'reply' && !s2.reply.transit);
  if (s2.kind !== 'reply' || s2.state.chap.step !== 'want-response') return;
  const { id, challenge } = s2.state.chap;
  const wrong = loginStep(s2.state, input({ keys: [['CHAP_N', 'u'], ['CHAP_R', encodeHex(chapResponse(id, 'nope', challenge))]] }), chapCfg, random);
  assert.ok(wrong.kind === 'fail' && wrong.reply.status === LoginStatus.AuthFailure);
  const right = loginStep(s2.state, input({ keys: [['CHAP_N', 'u'], ['CHAP_R', encodeHex(chapResponse(id, 'secretsecret', challenge))]] }), chapCfg, random);
  assert.ok(right.kind === 'reply' && right.reply.transit && right.reply.nsg === 1);
});

test('allowed-initiators: another name is refused with 0x0202 (authorization failure), before the target name is looked at; names compare without case', () => {
  const acl: LoginConfig = { ...config, allowedInitiators: ['iqn.2026-11.test:Allowed'] };
  const step = (name: string, target = IQN) => loginStep(initialLoginState(), input({ keys: [['InitiatorName', name], ['TargetName', target], ['AuthMethod', 'None']] }), acl, random);
  const refused = step('iqn.2026-11.test:other', 'iqn.not-ours');
  assert.equal(refused.kind, 'fail');
  if (refused.kind === 'fail') {
    assert.equal(refused.reply.status, 0x0202);
    assert.match(refused.reason, /not in allowed-initiators/);
  }
  assert.equal(step('iqn.2026-11.test:allowed').kind, 'reply');
  assert.equal(step('IQN.2026-11.TEST:ALLOWED').kind, 'reply');
});
