// The replication machine's messages (machine-types PeerMsg) on the peer wire (peer-wire.ts).
// Bulk messages travel as the wire's binary types, without copying their payloads; the small
// control messages ride in a StateChangeRequest as JSON.
import type { JsonValue, PeerMessage } from './peer-wire.js';
import { BITMAP_LAST, DATA_FUA } from './peer-wire.js';
import { Zeroes, type PeerMsg } from './machine-types.js';

/** Bitmaps larger than this go in several chunks (frames are limited to about 1 MiB). */
const BITMAP_CHUNK = 512 * 1024;

export function toWire(m: PeerMsg): PeerMessage[] {
  switch (m.type) {
    case 'data':
      if (m.payload instanceof Zeroes) return [{ type: 'DataZeroes', volume: m.volume, seq: m.seq, offset: m.offset, flags: m.fua ? DATA_FUA : 0, length: m.payload.length }];
      return [{ type: 'Data', volume: m.volume, seq: m.seq, offset: m.offset, flags: m.fua ? DATA_FUA : 0, payload: m.payload }];
    case 'write-ack':
      return [{ type: 'WriteAck', volume: m.volume, seq: m.seq, kind: m.kind }];
    case 'neg-ack':
      return [{ type: 'NegAck', volume: m.volume, seq: m.seq }];
    case 'rs-request':
      return [{ type: 'RsDataRequest', volume: m.volume, offset: m.offset, length: m.length, id: m.id }];
    case 'rs-reply':
      return [{ type: 'RsDataReply', volume: m.volume, offset: m.offset, id: m.id, payload: m.payload }];
    case 'ov-request':
      return [{ type: 'OvRequest', volume: m.volume, offset: m.offset, length: m.length, id: m.id }];
    case 'ov-reply':
      return [{ type: 'OvReply', volume: m.volume, offset: m.offset, length: m.length, id: m.id, digest: Buffer.from(m.digest.buffer, m.digest.byteOffset, m.digest.byteLength) }];
    case 'flush':
      return [{ type: 'Flush', volume: 0, id: m.id }];
    case 'flush-ack':
      // A failed one is rare and carries its reason: as a control message.
      if (m.error !== undefined) break;
      return [{ type: 'FlushAck', volume: 0, id: m.id }];
    case 'pr-set':
      return [{ type: 'PrBlob', volume: m.volume, id: m.id, blob: m.blob }];
    case 'pr-ack':
      return [{ type: 'PrAck', volume: m.volume, id: m.id }];
    case 'bitmap': {
      const bits = Buffer.from(m.bits.buffer, m.bits.byteOffset, m.bits.byteLength);
      const out: PeerMessage[] = [];
      for (let off = 0; off < bits.length || off === 0; off += BITMAP_CHUNK) {
        const last = off + BITMAP_CHUNK >= bits.length;
        out.push({ type: 'BitmapChunk', volume: m.volume, offset: off, flags: last ? BITMAP_LAST : 0, bits: bits.subarray(off, off + BITMAP_CHUNK) });
        if (last) break;
      }
      return out;
    }
    default:
      break;
  }
  return [{ type: 'StateChangeRequest', id: 0, change: m.type, params: m as unknown as Record<string, JsonValue> }];
}

/** Reassembles chunked bitmaps; returns the machine messages a wire message completes. */
export class WireReader {
  private bitmaps = new Map<number, Buffer[]>();

  read(w: PeerMessage): PeerMsg | undefined {
    switch (w.type) {
      case 'Data':
        return { type: 'data', volume: w.volume, seq: w.seq, offset: w.offset, fua: (w.flags & DATA_FUA) !== 0, payload: w.payload };
      case 'DataZeroes':
        return { type: 'data', volume: w.volume, seq: w.seq, offset: w.offset, fua: (w.flags & DATA_FUA) !== 0, payload: new Zeroes(w.length) };
      case 'WriteAck':
        return { type: 'write-ack', volume: w.volume, seq: w.seq, kind: w.kind };
      case 'NegAck':
        return { type: 'neg-ack', volume: w.volume, seq: w.seq };
      case 'RsDataRequest':
        return { type: 'rs-request', volume: w.volume, id: w.id, offset: w.offset, length: w.length };
      case 'RsDataReply':
        return { type: 'rs-reply', volume: w.volume, id: w.id, offset: w.offset, payload: w.payload };
      case 'OvRequest':
        return { type: 'ov-request', volume: w.volume, id: w.id, offset: w.offset, length: w.length };
      case 'OvReply':
        return { type: 'ov-reply', volume: w.volume, id: w.id, offset: w.offset, length: w.length, digest: w.digest };
      case 'Flush':
        return { type: 'flush', id: w.id };
      case 'FlushAck':
        return { type: 'flush-ack', id: w.id };
      case 'PrBlob':
        return { type: 'pr-set', volume: w.volume, id: w.id, blob: w.blob };
      case 'PrAck':
        return { type: 'pr-ack', volume: w.volume, id: w.id };
      case 'BitmapChunk': {
        const parts = this.bitmaps.get(w.volume) ?? [];
        parts.push(w.bits);
        if ((w.flags & BITMAP_LAST) === 0) {
          this.bitmaps.set(w.volume, parts);
          return undefined;
        }
        this.bitmaps.delete(w.volume);
        return { type: 'bitmap', volume: w.volume, bits: Buffer.concat(parts) };
      }
      case 'StateChangeRequest':
        return w.params as unknown as PeerMsg;
      default:
        return undefined;
    }
  }
}
