// A resource file without the peer link's shared secret does not load (the link would accept
// any peer). The console offers to put a generated one in it, the same on both hosts since it
// writes the same file to both.
import { randomBytes } from 'node:crypto';
import { isMap, parseDocument, Scalar } from 'yaml';
import type { ResourceFormat } from '../../agent/protocol/config.js';

/** 24 random bytes (192 bits) from the OS's CSPRNG, base64url: 32 characters, no quoting trouble. */
export function generateSharedSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Whether the file has no shared-secret at all (a malformed one is the loader's to report). */
export function lacksSharedSecret(text: string, format: ResourceFormat): boolean {
  if (format === 'res') return !/\bshared-secret\b/.test(text);
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return false;
  const v = doc.getIn(['net', 'shared-secret']);
  return v === undefined || v === null || v === '';
}

/** The text with `secret` as net.shared-secret, the rest of the file (comments, layout) as written. */
export function withSharedSecret(text: string, format: ResourceFormat, secret: string): string {
  if (format === 'res') {
    const net = /\bnet\s*\{/.exec(text);
    if (net) return `${text.slice(0, net.index + net[0].length)} shared-secret "${secret}";${text.slice(net.index + net[0].length)}`;
    const res = /\bresource\s+\S+\s*\{[^\n]*\n?/.exec(text);
    if (!res) return text;
    const at = res.index + res[0].length;
    return `${text.slice(0, at)}${res[0].endsWith('\n') ? '' : '\n'}  net { shared-secret "${secret}"; }\n${text.slice(at)}`;
  }
  const doc = parseDocument(text);
  const value = new Scalar(secret);
  // Quoted: the loader wants text, and a secret of digits only would read as a number.
  value.type = Scalar.QUOTE_DOUBLE;
  if (!isMap(doc.get('net'))) doc.delete('net');
  doc.setIn(['net', 'shared-secret'], value);
  return doc.toString();
}
