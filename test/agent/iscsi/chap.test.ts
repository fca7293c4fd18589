import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chapResponse, chapStep, decodeBinary, encodeHex } from '../../../agent/iscsi/chap.js';

const config = { user: 'alice', secret: 'twelve-chars', targetUser: 'tgt', targetSecret: 'other-secret' };
const random = Buffer.from([0x2a, ...Array.from({ length: 16 }, (_, i) => i + 1)]);

test('binary values: 0x hex (odd length too) and 0b base64', () => {
  assert.deepEqual(decodeBinary('0x0a0B'), Buffer.from([0x0a, 0x0b]));
  assert.deepEqual(decodeBinary('0xabc'), Buffer.from([0x0a, 0xbc]));
  assert.deepEqual(decodeBinary('0bAQID'), Buffer.from([1, 2, 3]));
  assert.equal(decodeBinary('1234'), undefined);
  assert.equal(decodeBinary('0xzz'), undefined);
});

test('RFC 1994 response is MD5(identifier ‖ secret ‖ challenge)', () => {
  // Independent computation of the RFC 1994 §4.1 definition.
  const id = 7;
  const challenge = Buffer.from('0123456789abcdef', 'hex');
  const want = createHash('md5').update(Buffer.concat([Buffer.from([id]), Buffer.from('secret'), challenge])).digest();
  assert.deepEqual(chapResponse(id, 'secret', challenge), want);
  // RFC 1994 worked shape: identifier 1, secret "a", empty challenge → MD5("\x01a").
  assert.equal(chapResponse(1, 'a', Buffer.alloc(0)).toString('hex'), createHash('md5').update('\x01a').digest('hex'));
});

function challenge() {
  const r = chapStep({ step: 'want-algorithm' }, [['CHAP_A', '7,5']], config, random);
  assert.equal(r.kind, 'continue');
  if (r.kind !== 'continue' || r.state.step !== 'want-response') throw new Error('no challenge');
  assert.deepEqual(r.answers[0], ['CHAP_A', '5']);
  assert.deepEqual(r.answers[1], ['CHAP_I', '42']);
  return r.state;
}

test('one-way CHAP accepts the right response (hex or base64) and refuses a wrong one', () => {
  const st = challenge();
  const good = chapResponse(st.id, config.secret, st.challenge);
  assert.equal(chapStep(st, [['CHAP_N', 'alice'], ['CHAP_R', encodeHex(good)]], config, random).kind, 'success');
  assert.equal(chapStep(st, [['CHAP_N', 'alice'], ['CHAP_R', `0b${good.toString('base64')}`]], config, random).kind, 'success');
  const bad = chapResponse(st.id, 'wrong-secret', st.challenge);
  const r = chapStep(st, [['CHAP_N', 'alice'], ['CHAP_R', encodeHex(bad)]], config, random);
  assert.equal(r.kind, 'fail');
  assert.equal(chapStep(st, [['CHAP_N', 'bob'], ['CHAP_R', encodeHex(good)]], config, random).kind, 'fail');
  assert.equal(chapStep({ step: 'want-algorithm' }, [['CHAP_A', '7']], config, random).kind, 'fail');
});

test('mutual CHAP answers the initiator challenge and refuses a reflected one', () => {
  const st = challenge();
  const good = encodeHex(chapResponse(st.id, config.secret, st.challenge));
  const theirs = Buffer.from('feedfacecafebeef', 'hex');
  const r = chapStep(st, [['CHAP_N', 'alice'], ['CHAP_R', good], ['CHAP_I', '9'], ['CHAP_C', encodeHex(theirs)]], config, random);
  assert.equal(r.kind, 'success');
  if (r.kind !== 'success') return;
  assert.deepEqual(r.answers, [
    ['CHAP_N', 'tgt'],
    ['CHAP_R', encodeHex(chapResponse(9, config.targetSecret, theirs))],
  ]);
  const reflected = chapStep(st, [['CHAP_N', 'alice'], ['CHAP_R', good], ['CHAP_I', '9'], ['CHAP_C', encodeHex(st.challenge)]], config, random);
  assert.equal(reflected.kind, 'fail');
});
