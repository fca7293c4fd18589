import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, DEFAULT_PARAMS, negotiate } from '../../../agent/iscsi/negotiation.js';

const offers: Array<[string, string]> = [
  ['HeaderDigest', 'CRC32C,None'],
  ['DataDigest', 'None,CRC32C'],
  ['MaxRecvDataSegmentLength', '65536'],
  ['InitialR2T', 'No'],
  ['ImmediateData', 'Yes'],
  ['FirstBurstLength', '2000000'],
  ['MaxBurstLength', '16776192'],
  ['MaxOutstandingR2T', '4'],
  ['DefaultTime2Wait', '0'],
  ['DefaultTime2Retain', '60'],
  ['ErrorRecoveryLevel', '2'],
  ['MaxConnections', '8'],
  ['IFMarker', 'Yes'],
  ['X-com.example.Foo', 'bar'],
];

test('applies the RFC 7143 rules key by key', () => {
  const r = negotiate(offers, DEFAULT_PARAMS, { ...DEFAULT_LIMITS, initialR2T: false }, false);
  const a = Object.fromEntries(r.answers);
  assert.equal(a.HeaderDigest, 'CRC32C');
  assert.equal(a.DataDigest, 'None');
  assert.equal(a.MaxRecvDataSegmentLength, undefined, 'declarative: not answered here');
  assert.equal(r.params.initiatorMaxRecvDataSegmentLength, 65536);
  assert.equal(a.InitialR2T, 'No');
  assert.equal(a.ImmediateData, 'Yes');
  assert.equal(a.FirstBurstLength, String(DEFAULT_LIMITS.firstBurstLength));
  assert.equal(a.MaxBurstLength, String(DEFAULT_LIMITS.maxBurstLength));
  assert.equal(a.MaxOutstandingR2T, '4');
  assert.equal(a.DefaultTime2Wait, '2');
  assert.equal(a.DefaultTime2Retain, '0');
  assert.equal(a.ErrorRecoveryLevel, '0');
  assert.equal(a.MaxConnections, '1');
  assert.equal(a.IFMarker, 'No');
  assert.equal(a['X-com.example.Foo'], 'NotUnderstood');
  assert.equal(r.params.headerDigest, true);
  assert.ok(r.params.firstBurstLength <= r.params.maxBurstLength);
});

test('OR / AND results and rejections', () => {
  const r = negotiate(
    [
      ['InitialR2T', 'Yes'],
      ['ImmediateData', 'No'],
      ['MaxBurstLength', '100'],
      ['HeaderDigest', 'MD5'],
    ],
    DEFAULT_PARAMS,
    DEFAULT_LIMITS,
    false,
  );
  const a = Object.fromEntries(r.answers);
  assert.equal(a.InitialR2T, 'Yes');
  assert.equal(a.ImmediateData, 'No');
  assert.equal(a.MaxBurstLength, 'Reject');
  assert.equal(a.HeaderDigest, 'Reject');
  assert.deepEqual(r.rejected.sort(), ['HeaderDigest', 'MaxBurstLength']);
});

test('session-only keys are irrelevant in discovery', () => {
  const r = negotiate([['MaxBurstLength', '4096']], DEFAULT_PARAMS, DEFAULT_LIMITS, true);
  assert.deepEqual(r.answers, [['MaxBurstLength', 'Irrelevant']]);
});
