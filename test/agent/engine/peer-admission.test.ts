import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_UNAUTHENTICATED, admitConnection, type AdmissionInput } from '../../../agent/engine/peer-admission.js';

describe('peer-admission: which connections the peer port takes', () => {
  const base: AdmissionInput = { remoteIp: '10.77.0.12', peerIp: '10.77.0.12', unauthenticated: 0, running: true };
  const rows: Array<{ name: string; over: Partial<AdmissionInput>; error: RegExp | null }> = [
    { name: 'the peer, nothing pending', over: {}, error: null },
    { name: 'the peer, one below the cap', over: { unauthenticated: MAX_UNAUTHENTICATED - 1 }, error: null },
    { name: 'the peer at the cap', over: { unauthenticated: MAX_UNAUTHENTICATED }, error: /4 connections already in the handshake/ },
    { name: 'any other address, at once', over: { remoteIp: '10.77.0.99' }, error: /connection from 10\.77\.0\.99 refused: only the peer 10\.77\.0\.12 may connect/ },
    { name: 'a stopped link', over: { running: false }, error: /stopped/ },
  ];
  for (const r of rows) {
    test(r.name, () => {
      const a = admitConnection({ ...base, ...r.over });
      if (r.error === null) assert.deepEqual(a, { ok: true });
      else assert.ok(!a.ok && r.error.test(a.error), JSON.stringify(a));
    });
  }
});
