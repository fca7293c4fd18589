// Async tasks one at a time, in the order they were queued: for writes whose awaits could
// otherwise finish out of order (two superblock writes tearing both slots, an older persist
// landing last, two reservation updates each starting from the same state). A task that fails
// rejects its own caller only; the ones queued after it still run.

export class Serializer {
  /** Settles when the last task queued has; never rejects. */
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task);
    this.tail = p.catch(() => undefined);
    return p;
  }

  /** Resolves once every task queued so far has finished, however it ended. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
