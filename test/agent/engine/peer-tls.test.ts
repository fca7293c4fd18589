import { test } from 'node:test';
import assert from 'node:assert/strict';
import { looksLikeTls, peerTlsKey, tlsFailure, tlsMismatchProblem } from '../../../agent/engine/peer-tls.js';
import { FRAME_MAGIC } from '../../../agent/engine/peer-wire.js';

test('the TLS key is derived: 32 bytes, not the secret, different per resource and per secret, stable', () => {
  const k = peerTlsKey('correct horse battery staple', 'r0');
  assert.equal(k.length, 32);
  assert.ok(!k.includes(Buffer.from('correct horse')));
  assert.deepEqual(peerTlsKey('correct horse battery staple', 'r0'), k);
  assert.notDeepEqual(peerTlsKey('correct horse battery staple', 'r1'), k);
  assert.notDeepEqual(peerTlsKey('correct horse battery stapla', 'r0'), k);
});

test('looksLikeTls tells a TLS record from a frame', () => {
  const frame = Buffer.alloc(16);
  frame.writeUInt32BE(FRAME_MAGIC, 0);
  const table: Array<[string, Buffer, boolean]> = [
    ['ClientHello record', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc0]), true],
    ['alert record', Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02]), true],
    ['application data', Buffer.from([0x17, 0x03, 0x03]), true],
    ['a peer-link frame', frame, false],
    ['one byte', Buffer.from([0x16]), false],
    ['SSLv2-style', Buffer.from([0x80, 0x2e]), false],
  ];
  for (const [what, bytes, want] of table) assert.equal(looksLikeTls(bytes), want, what);
});

test('tlsFailure reads OpenSSL errors as what an operator fixes', () => {
  const ssl = (reason: string) => `80AC:error:0A00010B:SSL routines:ssl3_get_record:${reason}:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n`;
  const table: Array<[string | undefined, string, ReturnType<typeof tlsFailure>]> = [
    [undefined, 'connection closed', undefined],
    ['ECONNRESET', 'read ECONNRESET', undefined],
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.3:7789', undefined],
    ['ERR_SSL_WRONG_VERSION_NUMBER', ssl('wrong version number'), { kind: 'peer-plain' }],
    ['EPROTO', `write EPROTO ${ssl('wrong version number')}`, { kind: 'peer-plain' }],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', ssl('tlsv1 alert protocol version'), { kind: 'peer-plain' }],
    ['ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC', ssl('sslv3 alert bad record mac'), { kind: 'key-mismatch' }],
    ['ERR_SSL_CIPHER_OPERATION_FAILED', 'Provider routines:ossl_gcm_stream_update:cipher operation failed', { kind: 'key-mismatch' }],
    ['EPROTO', `write EPROTO ${ssl('decryption failed or bad record mac')}`, { kind: 'key-mismatch' }],
    ['ERR_SSL_NO_SHARED_CIPHER', ssl('no shared cipher'), { kind: 'other', code: 'ERR_SSL_NO_SHARED_CIPHER' }],
  ];
  for (const [code, message, want] of table) assert.deepEqual(tlsFailure({ code, message }), want, `${code} ${message}`);
});

test('a mismatch names the peer, which side is plain, and the fix', () => {
  assert.equal(tlsMismatchProblem('ha-b', true), 'ha-b does not speak TLS on the peer link: set net.tls psk on both hosts, or on neither');
  assert.equal(tlsMismatchProblem('ha-a', false), 'ha-a speaks TLS on the peer link and this host does not: set net.tls psk on both hosts, or on neither');
});
