// Text segments (RFC 7143 §6.1): NUL-terminated key=value pairs, possibly split across
// several Login/Text PDUs with the C (continue) bit set.

export type KeyValues = Array<[string, string]>;

export class TextFormatError extends Error {
  override name = 'TextFormatError';
}

/** Parses a complete text segment. Order is kept: negotiation answers in the order asked. */
export function parseText(data: Buffer): KeyValues {
  const out: KeyValues = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0, start);
    if (end < 0) end = data.length;
    if (end > start) {
      const pair = data.toString('utf8', start, end);
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new TextFormatError(`malformed key=value pair "${pair.slice(0, 64)}"`);
      out.push([pair.slice(0, eq), pair.slice(eq + 1)]);
    }
    start = end + 1;
  }
  return out;
}

export function encodeText(pairs: KeyValues): Buffer {
  return Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8');
}

/** Collects the pieces of a text segment sent with C=1 until the PDU with C=0 arrives. */
export class TextAccumulator {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit = 64 * 1024) {}

  /** Returns the whole segment when `cont` is false, else undefined. Throws past the limit. */
  add(data: Buffer, cont: boolean): Buffer | undefined {
    this.size += data.length;
    if (this.size > this.limit) {
      this.reset();
      throw new TextFormatError('text segment too long');
    }
    this.parts.push(data);
    if (cont) return undefined;
    const whole = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    this.reset();
    return whole;
  }

  get pending(): boolean {
    return this.parts.length > 0;
  }

  reset(): void {
    this.parts = [];
    this.size = 0;
  }
}

/**
 * Splits an outgoing text segment into chunks no longer than maxLength; every chunk but the
 * last goes out with C=1 and the initiator asks for the next with an empty request.
 */
export function splitText(data: Buffer, maxLength: number): Buffer[] {
  if (data.length <= maxLength) return [data];
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += maxLength) out.push(data.subarray(off, off + maxLength));
  return out;
}
