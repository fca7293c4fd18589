import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chapResponse, encodeHex } from '../../../agent/iscsi/chap.js';
import { initialLoginState, LoginStatus, loginStep, type LoginConfig, type LoginInput } from '../../../agent/iscsi/login.js';
import { DEFAULT_LIMITS } from '../../../agent/iscsi/negotiation.js';

const IQN = 'iqn.2026-11.test:t';
const INI = 'iqn.2026-11.test:initiator';
const config: LoginConfig = { iqn: IQN, tpgt: 1, limits: DEFAULT_LIMITS, alias: 'vol' };
const random = Buffer.alloc(17, 3);

const input = (over: Partial<LoginInput>): LoginInput => ({ transit: true, csg: 0, nsg: 1, versionMin: 0, versionMax: 0, keys: [], ...over });

test('no authentication: security → operational → full feature; TPGT first, MaxRecvDataSegmentLength declared', () => {
  const s1 = loginStep(initialLoginState(), input({ keys: [['InitiatorName', INI], ['TargetName', IQN], ['AuthMethod', 'CHAP,None']] }), config, random);
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
  assert.equal(fail(input({ keys: [['InitiatorName', INI]] })), LoginStatus.MissingParameter);
  assert.equal(fail(input({ keys: [['InitiatorName', INI], ['TargetName', 'iqn.2026-11.test:other']] })), LoginStatus.NotFound);
  assert.equal(fail(input({ versionMin: 1, keys: [['InitiatorName', INI], ['TargetName', IQN]] })), LoginStatus.UnsupportedVersion);
  const chapCfg = { ...config, chap: { user: 'u', secret: 'secretsecret' } };
  assert.equal(fail(input({ csg: 1, nsg: 3, keys: [['InitiatorName', INI], ['TargetName', IQN]] }), chapCfg), LoginStatus.AuthFailure);
  assert.equal(fail(input({ keys: [['InitiatorName', INI], ['TargetName', IQN], ['AuthMethod', 'None']] }), chapCfg), LoginStatus.AuthFailure);
});

test('discovery sessions need no TargetName and get no TPGT', () => {
  const r = loginStep(initialLoginState(), input({ csg: 1, nsg: 3, keys: [['InitiatorName', INI], ['SessionType', 'Discovery']] }), config, random);
  assert.equal(r.kind, 'complete');
  if (r.kind !== 'complete') return;
  assert.equal(r.state.sessionType, 'Discovery');
  assert.equal(Object.fromEntries(r.reply.keys).TargetPortalGroupTag, undefined);
});

test('CHAP: transit is held back until the response checks out', () => {
  const chapCfg = { ...config, chap: { user: 'u', secret: 'secretsecret' } };
  const s1 = loginStep(initialLoginState(), input({ keys: [['InitiatorName', INI], ['TargetName', IQN], ['AuthMethod', 'CHAP']] }), chapCfg, random);
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

test('hostile names are refused as an initiator error (0x0200), the reason quoting them escaped and short', () => {
  const HOSTILE: Array<[what: string, keys: Array<[string, string]>]> = [
    ['an InitiatorName with a title-setting OSC and a screen clear', [['InitiatorName', 'iqn.2026-11.test:\x1b]2;pwned\x07\x1b[2J'], ['TargetName', IQN]]],
    ['a TargetName with a forged log line', [['InitiatorName', INI], ['TargetName', 'iqn.2026-11.test:t\ndrbd-agent: r0: alert: Split-Brain detected']]],
    ['an InitiatorName that is no iSCSI name', [['InitiatorName', 'i'], ['TargetName', IQN]]],
    ['a naa. name of the wrong length', [['InitiatorName', 'naa.60014051'], ['TargetName', IQN]]],
    ['an InitiatorName of 64 KiB', [['InitiatorName', `iqn.2026-11.test:${'a'.repeat(65536)}`], ['TargetName', IQN]]],
  ];
  for (const [what, keys] of HOSTILE) {
    const r = loginStep(initialLoginState(), input({ keys }), config, random);
    assert.equal(r.kind, 'fail', what);
    if (r.kind !== 'fail') continue;
    assert.equal(r.reply.status, LoginStatus.InitiatorError, what);
    assert.ok(!/[\n\x1b\x07]/.test(r.reason), `${what}: ${r.reason}`); // eslint-disable-line no-control-regex
    assert.ok(r.reason.length < 400, `${what}: ${r.reason.length} chars`);
  }
});

test('names as initiators send them: mixed case is folded (RFC 3722), naa. and eui. names are names', () => {
  for (const name of ['iqn.1998-01.com.VMware:ESX01-4c4c4544', 'naa.60014051E4D3A2B1', 'naa.60014051e4d3a2b1c0ffee0123456789', 'eui.02004567A425678D']) {
    const r = loginStep(initialLoginState(), input({ keys: [['InitiatorName', name], ['TargetName', IQN.toUpperCase()], ['AuthMethod', 'None']] }), config, random);
    assert.equal(r.kind, 'reply', `${name}: ${r.kind === 'fail' ? r.reason : ''}`);
  }
});

test('a CHAP failure says nothing of what the initiator sent as credentials', () => {
  const chapCfg: LoginConfig = { ...config, chap: { user: 'alice', secret: 'Sup3rS3cretChap1' } };
  const s1 = loginStep(initialLoginState(), input({ transit: false, keys: [['InitiatorName', INI], ['TargetName', IQN], ['AuthMethod', 'CHAP']] }), chapCfg, random);
  assert.equal(s1.kind, 'reply');
  if (s1.kind !== 'reply') return;
  const s2 = loginStep(s1.state, input({ transit: false, keys: [['CHAP_A', '5']] }), chapCfg, random);
  if (s2.kind !== 'reply') return assert.fail('CHAP_A answered');
  const s3 = loginStep(s2.state, input({ keys: [['CHAP_N', 'MyTypedSecret'], ['CHAP_R', '0xdeadbeefdeadbeefdeadbeefdeadbeef']] }), chapCfg, random);
  assert.equal(s3.kind, 'fail');
  if (s3.kind !== 'fail') return;
  assert.equal(s3.reply.status, LoginStatus.AuthFailure);
  for (const sent of ['MyTypedSecret', 'deadbeef', 'Sup3rS3cretChap1', 'alice']) assert.ok(!s3.reason.includes(sent), s3.reason);
});
