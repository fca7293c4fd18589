// Byte ranges, and scanning collections of them without copying: the machine checks in-flight
// operations for overlaps on every write.

export function overlaps(a: { offset: number; length: number }, b: { offset: number; length: number }): boolean {
  return a.offset < b.offset + b.length && b.offset < a.offset + a.length;
}

/** Array.some over any iterable (a Map's values, a Set), without copying it into an array. */
export function anyOf<T>(items: Iterable<T>, pred: (x: T) => boolean): boolean {
  for (const x of items) if (pred(x)) return true;
  return false;
}
