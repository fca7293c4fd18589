// A Map from integer keys to short-lived entries (requests in flight by id, token or tag), for
// the hot paths where every I/O adds one entry and removes it a millisecond later.
//
// Why not Map: V8 replaces a Map's hash table as entries come and go, and each replaced table
// keeps a link to its successor (and the values it held). Once one table has been promoted to
// the old generation, every later table is kept alive through that link, so the scavenger
// copies all of them and everything they hold into the old generation until the next full
// collection. Replicating 4 KiB writes at 30k a second, that was a megabyte promoted per
// scavenge and a mark-compact every few hundred milliseconds. Here entries live in arrays
// that are replaced only when they grow, and a replaced array is emptied first.
//
// The Map subset the engine uses, with Map's iteration semantics: insertion order, entries
// deleted before they are reached are skipped, entries added meanwhile are visited. An
// iteration must run to its end or be closed (for-of's break does that): one left open keeps
// the table from compacting its insertion order.

const EMPTY = Number.NaN;
const MIN_CAPACITY = 16;

/** Spreads a safe integer's bits over 32 (Fibonacci hashing); sequential keys fall apart. */
function hash(key: number): number {
  return Math.imul((key >>> 0) ^ ((key / 4294967296) >>> 0), 0x9e3779b1) >>> 0;
}

export class IdMap<V> implements Iterable<[number, V]> {
  private keyAt: Float64Array;
  private valueAt: Array<V | undefined>;
  /** Where the slot's key sits in `order`. */
  private posAt: Int32Array;
  /** Keys by insertion; a position is stale once its key was deleted (or moved by a re-insert). */
  private order: number[] = [];
  private shift: number;
  private count = 0;
  /** Iterations in progress: `order` keeps its positions while any runs. */
  private iterating = 0;

  constructor() {
    this.shift = 32 - Math.log2(MIN_CAPACITY);
    this.keyAt = new Float64Array(MIN_CAPACITY).fill(EMPTY);
    this.valueAt = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
    this.posAt = new Int32Array(MIN_CAPACITY);
  }

  get size(): number {
    return this.count;
  }

  /** Slots in the table (for tests). */
  get capacity(): number {
    return this.keyAt.length;
  }

  private home(key: number): number {
    return hash(key) >>> this.shift;
  }

  private slotOf(key: number): number {
    const mask = this.keyAt.length - 1;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const k = this.keyAt[i] as number;
      if (k === key) return i;
      if (k !== k) return -1;
    }
  }

  has(key: number): boolean {
    return this.slotOf(key) >= 0;
  }

  get(key: number): V | undefined {
    const i = this.slotOf(key);
    return i < 0 ? undefined : this.valueAt[i];
  }

  set(key: number, value: V): this {
    if (!Number.isSafeInteger(key)) throw new RangeError(`IdMap key ${key} is not a safe integer`);
    const found = this.slotOf(key);
    if (found >= 0) {
      this.valueAt[found] = value;
      return this;
    }
    if ((this.count + 1) * 2 > this.keyAt.length) this.resize(this.keyAt.length * 2);
    this.place(key, value, this.order.length);
    this.order.push(key);
    if (++this.count > this.windowPeak) this.windowPeak = this.count;
    return this;
  }

  private place(key: number, value: V | undefined, pos: number): void {
    const mask = this.keyAt.length - 1;
    let i = this.home(key);
    while (this.keyAt[i] === this.keyAt[i]) i = (i + 1) & mask;
    this.keyAt[i] = key;
    this.valueAt[i] = value;
    this.posAt[i] = pos;
  }

  delete(key: number): boolean {
    let i = this.slotOf(key);
    if (i < 0) return false;
    // Backward-shift deletion: the probe runs after the hole move up, so no tombstones are left.
    const mask = this.keyAt.length - 1;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = this.keyAt[j] as number;
      if (k !== k) break;
      const h = this.home(k);
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        this.keyAt[i] = k;
        this.valueAt[i] = this.valueAt[j];
        this.posAt[i] = this.posAt[j] as number;
        i = j;
      }
    }
    this.keyAt[i] = EMPTY;
    this.valueAt[i] = undefined;
    this.count--;
    // After a burst (an initial sync's thousands in flight) the table shrinks back, so some()
    // stays short; only once it has stayed small for a while, or every batch of queue depth 32
    // would grow it and shrink it again.
    if (++this.windowDeletes > 8 * this.keyAt.length) {
      const small = this.windowPeak * 4 < this.keyAt.length;
      this.windowDeletes = 0;
      this.windowPeak = this.count;
      if (small && this.keyAt.length > MIN_CAPACITY) this.resize(this.keyAt.length / 2);
    }
    if (this.iterating === 0 && this.order.length > 2 * this.count + 64) this.compactOrder();
    else if (this.count === 0 && this.iterating === 0) this.order.length = 0;
    return true;
  }

  clear(): void {
    this.keyAt.fill(EMPTY);
    this.valueAt.fill(undefined);
    this.count = 0;
    if (this.iterating === 0) this.order.length = 0;
    else this.order = this.order.map(() => EMPTY);
  }

  /** The most entries held during the current window of deletes (8 per slot). */
  private windowPeak = 0;
  private windowDeletes = 0;

  private resize(capacity: number): void {
    const keys = this.keyAt;
    const values = this.valueAt;
    const pos = this.posAt;
    this.keyAt = new Float64Array(capacity).fill(EMPTY);
    this.valueAt = new Array<V | undefined>(capacity).fill(undefined);
    this.posAt = new Int32Array(capacity);
    this.shift = 32 - Math.log2(capacity);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k === k) this.place(k, values[i], pos[i] as number);
    }
    // The old array may already be in the old generation: emptied, it keeps nothing alive.
    values.fill(undefined);
  }

  /** Drops stale positions from `order` (not while an iteration runs). */
  private compactOrder(): void {
    const order: number[] = [];
    for (let p = 0; p < this.order.length; p++) {
      const key = this.order[p] as number;
      const i = key === key ? this.slotOf(key) : -1;
      if (i >= 0 && this.posAt[i] === p) {
        this.posAt[i] = order.length;
        order.push(key);
      }
    }
    this.order = order;
  }

  /** Live slots in insertion order, as `pick` makes of each. */
  private *walk<T>(pick: (slot: number, key: number) => T): IterableIterator<T> {
    this.iterating++;
    try {
      for (let p = 0; p < this.order.length; p++) {
        const key = this.order[p] as number;
        if (key !== key) continue;
        const i = this.slotOf(key);
        if (i >= 0 && this.posAt[i] === p) yield pick(i, key);
      }
    } finally {
      if (--this.iterating === 0 && this.order.length > 2 * this.count + 64) this.compactOrder();
    }
  }

  entries(): IterableIterator<[number, V]> {
    return this.walk((i, key) => [key, this.valueAt[i] as V]);
  }

  keys(): IterableIterator<number> {
    return this.walk((_, key) => key);
  }

  values(): IterableIterator<V> {
    return this.walk((i) => this.valueAt[i] as V);
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: number) => void): void {
    for (const [k, v] of this.entries()) fn(v, k);
  }

  /** Whether any value passes, in no particular order and without allocating (hot paths); pred must not change the map. */
  some(pred: (value: V) => boolean): boolean {
    for (let i = 0; i < this.keyAt.length; i++) if (this.keyAt[i] === this.keyAt[i] && pred(this.valueAt[i] as V)) return true;
    return false;
  }
}
