// A client that keeps writing through one portal across a switchover or a failover, as an
// initiator with a service address does: on a lost connection, a timeout or the target's
// logout request it reconnects to the same portal and goes on. Every write goes to its own
// block (sequence number N at block N) and carries N, so afterwards each acknowledged write
// can be checked on the volume. Built on the project's test initiator (libiscsi's tools do
// not reconnect); the check reads through qemu, a real initiator.
import { performance } from 'node:perf_hooks';
import { Op } from '../../agent/iscsi/pdu.js';
import { TestInitiator } from './iscsi-initiator.js';
import { setTimeout as sleep } from 'node:timers/promises';

const GOOD = 0;
const ASYNC_LOGOUT_REQUEST = 1;
const MAGIC = 0x53564357; // "SVCW"

export interface WriterOptions {
  host: string;
  port: number;
  target: string;
  /** Bytes per write, a multiple of 512. */
  blockBytes: number;
  /** How many blocks the volume has room for: the writer stops there. */
  slots: number;
  /** Wait between writes, so a long run fits the volume. */
  gapMs: number;
}

export interface Ack {
  seq: number;
  /** performance.now() when the acknowledgement arrived. */
  at: number;
}

/** The content of write N: its number in the first bytes, the rest a fill derived from it. */
export function writerBlock(seq: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes, (seq % 251) + 1);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt32BE(seq, 4);
  return b;
}

/** The acknowledged writes whose block in `image` is not what was written (their numbers). */
export function missingAcks(image: Buffer, acks: readonly Ack[], blockBytes: number): number[] {
  return acks.filter((a) => !image.subarray(a.seq * blockBytes, (a.seq + 1) * blockBytes).equals(writerBlock(a.seq, blockBytes))).map((a) => a.seq);
}

/** The longest time without an acknowledgement between two that arrived in [from, to] (ms), with the pair. */
export function longestPause(acks: readonly Ack[], from: number, to: number): { ms: number; before?: Ack; after?: Ack } {
  let best: { ms: number; before?: Ack; after?: Ack } = { ms: 0 };
  for (let i = 1; i < acks.length; i++) {
    const [p, n] = [acks[i - 1]!, acks[i]!];
    if (n.at < from || p.at > to) continue;
    if (n.at - p.at > best.ms) best = { ms: n.at - p.at, before: p, after: n };
  }
  return best;
}


export class ReconnectingWriter {
  readonly acks: Ack[] = [];
  readonly problems: string[] = [];
  logins = 0;
  private seq = 0;
  private stopped = false;
  private loop?: Promise<void>;

  constructor(private readonly o: WriterOptions) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Resolves once `n` more writes are acknowledged. */
  async more(n: number, timeoutMs: number): Promise<void> {
    const want = this.acks.length + n;
    const deadline = performance.now() + timeoutMs;
    while (this.acks.length < want) {
      if (performance.now() > deadline) throw new Error(`writer: ${this.acks.length - want + n} of ${n} writes acknowledged in ${timeoutMs} ms; problems: ${this.problems.slice(-5).join('; ')}`);
      await sleep(20);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.seq < this.o.slots) {
      let i: TestInitiator | undefined;
      try {
        i = await TestInitiator.login({
          host: this.o.host,
          port: this.o.port,
          target: this.o.target,
          initiatorName: 'iqn.2026-11.test.drbd-tui:writer',
          isid: Buffer.from('400001370001', 'hex'),
          connectTimeoutMs: 1000,
        });
        this.logins++;
        await this.session(i);
      } catch (e) {
        this.problems.push((e as Error).message);
      } finally {
        i?.close();
      }
      if (!this.stopped) await sleep(50);
    }
  }

  private async session(i: TestInitiator): Promise<void> {
    const closed = new Promise<never>((_, reject) => i.socket.once('close', () => reject(new Error('connection closed'))));
    closed.catch(() => undefined);
    const ask = <T>(p: Promise<T>) => Promise.race([p, closed]);
    // A new nexus first gets the reset unit attention (29/00).
    for (let n = 0; ; n++) {
      if ((await ask(i.command(0, Buffer.alloc(6), { timeoutMs: 3000 }))).status === GOOD) break;
      if (n > 3) throw new Error('TEST UNIT READY never succeeded');
    }
    const sectors = this.o.blockBytes / 512;
    while (!this.stopped && this.seq < this.o.slots) {
      // The target stops: log out as initiators do, then reconnect to the same portal.
      const asks = i.unsolicited.filter((p) => ((p.bhs[0] as number) & 0x3f) === Op.AsyncMessage && p.bhs[36] === ASYNC_LOGOUT_REQUEST);
      if (asks.length > 0) {
        await ask(i.logout()).catch(() => undefined);
        return;
      }
      const seq = this.seq++;
      const lba = seq * sectors;
      const cdb = Buffer.from([0x2a, 0, (lba >>> 24) & 0xff, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, (sectors >> 8) & 0xff, sectors & 0xff, 0]);
      const r = await ask(i.command(0, cdb, { dataOut: writerBlock(seq, this.o.blockBytes), timeoutMs: 3000 }));
      if (r.status !== GOOD) throw new Error(`write ${seq}: status 0x${r.status.toString(16)}`);
      this.acks.push({ seq, at: performance.now() });
      await sleep(this.o.gapMs);
    }
  }
}
