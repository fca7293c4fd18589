// Randomized schedules against the two-node simulation: writes, discards, flushes, persistent-reservation
// saves, link cuts and restores (one of them losing the end of a resync), ticks, stalled disks,
// disks failing writes, flushes or metadata writes, switchovers and crashes in a seeded random order, with the replication
// invariants checked after every step and full convergence checked at the end.
//   SIM_SEED=n   replay one seed (the assertion message of a failure names it)
//   SIM_SEEDS=n  run n seeds (a soak; default 50), from SIM_SEED_FROM (default 1)
//   SIM_TRACE=n, SIM_TRACE_STATE=1, SIM_WATCH=block  more detail in a failure's trace
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCK, Zeroes } from '../../../agent/engine/machine-types.js';
import { createPrng, type Prng } from '../../support/prng.js';
import { EngineSim, pattern, type NodeId, type WriteHandle } from '../../support/engine-sim.js';

const firstSeed = Number(process.env.SIM_SEED_FROM ?? 1);
const seeds: number[] =
  process.env.SIM_SEED !== undefined ? [Number(process.env.SIM_SEED)] : Array.from({ length: Number(process.env.SIM_SEEDS ?? 50) }, (_, i) => firstSeed + i);
const STEPS = 160;

interface Run {
  sim: EngineSim;
  prng: Prng;
  trace: string[];
  pending: WriteHandle[];
  /** Nodes whose disk writes, flushes, metadata writes fail now. */
  failing: Set<NodeId>;
  flushFailing: Set<NodeId>;
  metaFailing: Set<NodeId>;
}

function describeNode(sim: EngineSim, n: NodeId): string {
  const e = sim.engine(n);
  const gi = (v: (typeof e.volumes)[number]): string =>
    process.env.SIM_TRACE_STATE
      ? ` C=${v.meta.gi.current.toString(16)} B=${v.meta.gi.bitmap.toString(16)} crashed=${v.meta.crashedPrimary} persisted-primary=${sim.persisted(n, v.volume).meta.primary}`
      : '';
  return `${['ha-a', 'ha-b'][n]}: ${e.role} ${e.conn} ${e.volumes.map((v) => `${v.disk}/${v.repl}/${v.peerDisk} oos=${v.bitmap.weight}${gi(v)}`).join(' ')}`;
}

/** Debugging aid (SIM_WATCH=block): where one block of volume 0 stands. */
function watch(sim: EngineSim, blk: number): string {
  const o = blk * BLOCK;
  const eq = sim.disk(0).compare(sim.disk(1), o, o + BLOCK, o, o + BLOCK) === 0;
  const bits = ([0, 1] as const).map((n) => `${sim.engine(n).volumes[0]!.bitmap.test(blk) ? 1 : 0}/${sim.persisted(n).bitmap.test(blk) ? 1 : 0}`);
  return `block ${blk}: equal=${eq} bits a=${bits[0]} b=${bits[1]} (memory/persisted) moving=${sim.inFlightBlocks(0).has(blk)}`;
}

/** The run of the seed in progress, for errors thrown outside fail(). */
let current: Run | undefined;

function fail(run: Run, seed: number, what: string): never {
  const tail = run.trace.slice(-(Number(process.env.SIM_TRACE) || 25)).join('\n  ');
  assert.fail(`seed ${seed} (replay: SIM_SEED=${seed}): ${what}\n  ${describeNode(run.sim, 0)}\n  ${describeNode(run.sim, 1)}\n last steps:\n  ${tail}`);
}

function checkInvariants(run: Run, seed: number): void {
  const { sim } = run;
  const one = sim.checkSinglePrimary();
  if (one) fail(run, seed, one);
  for (let vol = 0; vol < sim.opts.volumes; vol++) {
    const bad = sim.untrackedDifferences(vol);
    if (bad.length > 0) {
      const who = bad.slice(0, 10).map((b) => `${b}[a:${sim.ledgerMismatches(0, vol).includes(b) ? 'stale' : 'ok'} b:${sim.ledgerMismatches(1, vol).includes(b) ? 'stale' : 'ok'}]`);
      fail(run, seed, `volume ${vol}: blocks ${who.join(',')} differ between the disks and are neither out of sync in a bitmap nor in flight`);
    }
    for (const n of [0, 1] as const) {
      const e = sim.engine(n);
      if (e.role !== 'Primary' || e.volumes[vol]!.disk !== 'UpToDate') continue;
      // A block with a write still on its way to this disk (e.g. a protocol A/B peer write after
      // a switchover) is judged at the end, once everything has landed.
      const moving = sim.inFlightBlocks(vol);
      const lost = sim.ledgerMismatches(n, vol).filter((b) => !moving.has(b));
      if (lost.length > 0) fail(run, seed, `volume ${vol}: the Primary ${['ha-a', 'ha-b'][n]} lacks acknowledged writes in blocks ${lost.slice(0, 10).join(',')}`);
      if (!sim.prAcceptable(n, vol)) fail(run, seed, `volume ${vol}: the Primary ${['ha-a', 'ha-b'][n]} lacks the last acknowledged reservation change`);
    }
  }
}

function primary(sim: EngineSim): NodeId | undefined {
  return ([0, 1] as const).find((n) => sim.engine(n).role === 'Primary');
}

function quiet(sim: EngineSim): boolean {
  return ([0, 1] as const).every((n) => {
    const e = sim.engine(n);
    return e.conn === 'Connected' && e.volumes.every((v) => v.repl === 'Established' && v.disk === 'UpToDate' && v.peerDisk === 'UpToDate');
  });
}

function randomWrite(run: Run): string | undefined {
  const { sim, prng } = run;
  const p = primary(sim);
  if (p === undefined) return undefined;
  const vol = prng.int(sim.opts.volumes);
  if (sim.engine(p).volumes[vol]!.disk !== 'UpToDate') return undefined;
  const len = 1 + prng.int(3);
  const first = prng.int(sim.blocks - len + 1);
  // An application never has two writes to the same block in flight at once.
  run.pending = run.pending.filter((h) => !h.done && !h.lost);
  if (run.pending.some((h) => h.volume === vol && h.offset < (first + len) * BLOCK && first * BLOCK < h.offset + h.data.length)) return undefined;
  // Now and then a discard (UNMAP): replicated as a length, read back as zeros on both nodes.
  const discard = prng.int(8) === 0;
  run.pending.push(sim.write(p, vol, first * BLOCK, discard ? new Zeroes(len * BLOCK) : pattern(prng, len)));
  return `${discard ? 'discard' : 'write'} ${['ha-a', 'ha-b'][p]} v${vol} blocks ${first}+${len}`;
}

/**
 * A volume whose metadata write failed is Failed until the operator repairs the disk and detaches
 * and attaches it. Detaching cannot write clean metadata to it either, so the attach is the one
 * after a crash (the activity log applied), which is how the sim brings it back.
 */
function reattachFailed(run: Run, n: NodeId): string | undefined {
  const { sim } = run;
  if (!sim.engine(n).volumes.some((v) => v.disk === 'Failed')) return undefined;
  sim.crash(n, { applyInflightWrites: 'random' });
  return `detach + attach ${['ha-a', 'ha-b'][n]} (Failed disk repaired)`;
}

/** Toggles one kind of disk fault on a node. */
function toggleFault(run: Run, n: NodeId, kind: 'failing' | 'flushFailing' | 'metaFailing'): string {
  const set = run[kind];
  const on = !set.has(n);
  if (on) set.add(n);
  else set.delete(n);
  const name = ['ha-a', 'ha-b'][n];
  if (kind === 'failing') run.sim.failDiskWrites(n, on);
  else if (kind === 'flushFailing') run.sim.failDiskFlushes(n, on);
  else run.sim.failMetaWrites(n, on);
  const what = { failing: 'disk writes', flushFailing: 'flushes', metaFailing: 'metadata writes' }[kind];
  const healed = on ? undefined : kind === 'metaFailing' ? reattachFailed(run, n) : undefined;
  return `${on ? 'fail' : 'heal'} ${what} ${name}${healed ? `; ${healed}` : ''}`;
}

function randomPrSave(run: Run): string | undefined {
  const { sim, prng } = run;
  const p = primary(sim);
  if (p === undefined) return undefined;
  const vol = prng.int(sim.opts.volumes);
  const blob = Buffer.from(`reservations ${run.trace.length} ${prng.next()}`);
  const h = sim.prSave(p, vol, blob);
  return `reservation save ${['ha-a', 'ha-b'][p]} v${vol}${h.error ? `: ${h.error}` : ''}`;
}

/** One random step; returns its description for the trace. */
function randomStep(run: Run): string {
  const { sim, prng } = run;
  const r = prng.int(100);
  if (r < 34) return randomWrite(run) ?? 'write skipped';
  if (r < 36) {
    const p = primary(sim);
    if (p === undefined) return 'flush skipped';
    const f = sim.flush(p);
    return `flush ${['ha-a', 'ha-b'][p]}${f.error ? `: ${f.error}` : ''}`;
  }
  if (r < 40) return randomPrSave(run) ?? 'reservation save skipped';
  if (r < 55) return `events ${sim.runEvents(1 + prng.int(40))}`;
  if (r < 62) {
    sim.runUntilIdle();
    return 'idle';
  }
  if (r < 72) {
    const ms = [50, 200, 1000, 3000][prng.int(4)]!;
    sim.tick(ms);
    return `tick ${ms}`;
  }
  if (r < 77) {
    if (prng.int(4) === 0) {
      // The link breaks just as the end of a resync crosses it.
      const lost = prng.int(2) === 0 ? 'sync-finished' : 'sync-finished-ack';
      sim.loseNext(lost);
      return `the link will lose the next ${lost}`;
    }
    if (sim.cableUp) sim.cutLink();
    else sim.restoreLink();
    return sim.cableUp ? 'restore link' : 'cut link';
  }
  if (r < 81) {
    const n = prng.int(2) as NodeId;
    const k = prng.int(5);
    // An I/O error on every data write, flush or metadata write of that disk, until toggled back.
    if (k >= 2) return toggleFault(run, n, (['failing', 'flushFailing', 'metaFailing'] as const)[k - 2]!);
    sim.stallDisk(n, k === 0);
    return `${k === 0 ? 'stall' : 'unstall'} disk ${['ha-a', 'ha-b'][n]}`;
  }
  if (r < 85) {
    // Switchover, only from a clean, connected state (as a runbook would check).
    sim.runUntilIdle();
    const p = primary(sim);
    if (p === undefined || !quiet(sim)) return 'switchover skipped';
    const o = (1 - p) as NodeId;
    const demoted = sim.admin(p, { cmd: 'secondary' });
    if (!demoted.ok) return `switchover refused: ${demoted.error}`;
    sim.runUntilIdle();
    const res = sim.admin(o, { cmd: 'primary', force: false });
    return `switchover to ${['ha-a', 'ha-b'][o]}: ${res.ok ? 'ok' : res.error}`;
  }
  if (r < 89) {
    const p = primary(sim);
    if (p === undefined) return 'crash skipped';
    const s = (1 - p) as NodeId;
    sim.crash(s, { applyInflightWrites: 'random' });
    return `crash secondary ${['ha-a', 'ha-b'][s]}`;
  }
  if (r < 93) {
    const p = primary(sim);
    if (p === undefined) return 'crash skipped';
    const o = (1 - p) as NodeId;
    // Failover is safe only if the survivor had every acknowledged write: protocol C, connected, in sync.
    const failover = sim.opts.protocol === 'C' && quiet(sim) && prng.int(2) === 0;
    sim.crash(p, { applyInflightWrites: 'random', connect: !failover });
    if (!failover) return `crash primary ${['ha-a', 'ha-b'][p]}, restart as Secondary`;
    sim.runUntilIdle();
    const res = sim.admin(o, { cmd: 'primary', force: false });
    // The new Primary may write before the old one returns (rule 5/6) or not (rule 4, crash sub-rule).
    const w = res.ok && prng.int(2) === 0 ? randomWrite(run) : undefined;
    sim.runUntilIdle();
    sim.ok(p, { cmd: 'connect', discardMyData: false });
    return `crash primary ${['ha-a', 'ha-b'][p]}, failover to ${['ha-a', 'ha-b'][o]}: ${res.ok ? 'ok' : res.error}${w ? `; ${w}` : ''}`;
  }
  if (r < 96) {
    const n = prng.int(2) as NodeId;
    if (sim.engine(n).role === 'Primary') return 'restart skipped';
    sim.restart(n);
    return `graceful restart ${['ha-a', 'ha-b'][n]}`;
  }
  const n = prng.int(2) as NodeId;
  if (sim.engine(n).conn === 'StandAlone') return 'disconnect skipped';
  sim.ok(n, { cmd: 'disconnect' });
  sim.runUntilIdle();
  // Refused when a metadata write failed meanwhile: the disk is Failed until it is repaired.
  const again = sim.admin(n, { cmd: 'connect', discardMyData: false });
  return `disconnect/connect ${['ha-a', 'ha-b'][n]}${again.ok ? '' : `: ${again.error}`}`;
}

function runSeed(seed: number): void {
  current = undefined;
  const prng = createPrng(seed * 7919 + 1);
  const protocol = (['C', 'C', 'B', 'A'] as const)[prng.int(4)]!;
  const sim = new EngineSim({ seed, protocol, volumes: 1 + prng.int(2), volumeBytes: (1 + prng.int(4)) << 20, maxRate: [256 * 1024, 4 << 20, 1 << 30][prng.int(3)]!, ackTimeout: 2 });
  const run: Run = (current = { sim, prng, trace: [`protocol ${protocol}, ${sim.opts.volumes} volume(s) of ${sim.blocks} blocks, max-rate ${sim.opts.maxRate}`], pending: [], failing: new Set(), flushFailing: new Set(), metaFailing: new Set() });
  sim.connect();
  sim.runUntilIdle();
  if (prng.int(2) === 0) {
    sim.ok(0, { cmd: 'new-current-uuid', clearBitmap: true });
    sim.runUntilIdle();
    sim.ok(0, { cmd: 'primary', force: false });
    run.trace.push('new-current-uuid --clear-bitmap; primary ha-a');
  } else {
    sim.ok(0, { cmd: 'primary', force: true });
    run.trace.push('primary --force ha-a (initial sync)');
  }
  for (let i = 0; i < STEPS; i++) {
    run.trace.push(`${i}: ${randomStep(run)}`);
    if (process.env.SIM_TRACE_STATE) run.trace.push(`    ${describeNode(sim, 0)} | ${describeNode(sim, 1)}`);
    if (process.env.SIM_WATCH) run.trace.push(`    ${watch(sim, Number(process.env.SIM_WATCH))}`);
    checkInvariants(run, seed);
  }
  // The end: heal everything, connect, let every resync finish.
  sim.stallDisk(0, false);
  sim.stallDisk(1, false);
  for (const n of [0, 1] as const) {
    sim.failDiskWrites(n, false);
    sim.failDiskFlushes(n, false);
    sim.failMetaWrites(n, false);
    const healed = reattachFailed(run, n);
    if (healed) run.trace.push(healed);
  }
  sim.restoreLink();
  sim.runUntilIdle();
  sim.connect();
  run.trace.push('heal and settle');
  sim.runUntilIdle();
  // A resync that a failing disk paused waits for the operator, who has repaired the disk.
  for (const n of [0, 1] as const) {
    if (!/write failed on the local disk/.test(sim.engine(n).lastError ?? '') || !sim.engine(n).volumes.some((v) => v.repl === 'PausedSyncT')) continue;
    sim.ok(n, { cmd: 'resume-sync' });
    run.trace.push(`resume-sync ${['ha-a', 'ha-b'][n]}`);
  }
  sim.settle({ maxTicks: 5000 });
  // A crash before the first forced promotion was durable leaves two blank disks: legitimate
  // only if no write was ever acknowledged; then the operator forces the initial sync again.
  for (let vol = 0; vol < sim.opts.volumes; vol++) {
    if (([0, 1] as const).some((n) => sim.engine(n).volumes[vol]!.disk !== 'Inconsistent')) continue;
    if (sim.hasAckedWrites(vol)) fail(run, seed, `volume ${vol}: both nodes Inconsistent, but writes were acknowledged`);
    if (sim.engine(0).role !== 'Primary') {
      sim.ok(0, { cmd: 'primary', force: true });
      run.trace.push('both blank: primary --force ha-a');
      sim.settle({ maxTicks: 5000 });
    }
  }
  // A crash can also leave both Outdated once they have synced: the record that one was
  // UpToDate never reached its disk (behind a stalled disk, say), so neither can prove it has
  // the newest data and the engine promotes neither, as DRBD would not. The operator forces
  // one; their disks are equal by now, and the Primary's ledger check judges the choice.
  for (let vol = 0; vol < sim.opts.volumes; vol++) {
    const vs = ([0, 1] as const).map((n) => sim.engine(n).volumes[vol]!);
    if (!vs.every((v) => v.disk === 'Outdated' && v.repl === 'Established') || primary(sim) !== undefined) continue;
    sim.ok(0, { cmd: 'primary', force: true });
    run.trace.push(`both Outdated: primary --force ha-a`);
    sim.settle({ maxTicks: 5000 });
  }
  checkInvariants(run, seed);
  for (const n of [0, 1] as const) {
    const e = sim.engine(n);
    if (e.conn !== 'Connected') fail(run, seed, `${['ha-a', 'ha-b'][n]} did not reconnect: ${e.lastError ?? ''}`);
    for (const v of e.volumes) {
      // Bits may remain set without a sync: a crashed Secondary's activity-log extents, when the
      // handshake finds equal generations (rule 4) — conservative, not a divergence (see report).
      if (v.disk !== 'UpToDate' || v.repl !== 'Established') fail(run, seed, `volume ${v.volume} did not converge on ${['ha-a', 'ha-b'][n]}`);
    }
  }
  for (let vol = 0; vol < sim.opts.volumes; vol++) {
    if (!sim.disk(0, vol).equals(sim.disk(1, vol))) fail(run, seed, `volume ${vol}: the disks differ at the end`);
    const [pa, pb] = ([0, 1] as const).map((n) => sim.engine(n).volumes[vol]!.meta.pr);
    if (!(pa === undefined ? pb === undefined : pb !== undefined && pa.equals(pb))) fail(run, seed, `volume ${vol}: the reservation state differs at the end`);
    for (const n of [0, 1] as const) if (!sim.prAcceptable(n, vol)) fail(run, seed, `volume ${vol}: ${['ha-a', 'ha-b'][n]} lost the last acknowledged reservation change`);
    for (const n of [0, 1] as const) {
      const bad = sim.ledgerMismatches(n, vol);
      if (bad.length > 0) fail(run, seed, `volume ${vol}: ${['ha-a', 'ha-b'][n]} lost acknowledged writes in blocks ${bad.slice(0, 10).join(',')}`);
    }
  }
}

test(`randomized schedules keep the replication invariants (${seeds.length} seeds)`, () => {
  for (const seed of seeds) {
    try {
      runSeed(seed);
    } catch (e) {
      // A sim error (a refused admin command, a livelock) gets the seed and trace too.
      if (e instanceof assert.AssertionError || !current) throw e;
      fail(current, seed, (e as Error).message);
    }
  }
});
