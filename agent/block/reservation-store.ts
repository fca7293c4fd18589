// Where a logical unit's persistent-reservation state lives, as the bytes the iSCSI target
// serializes: the target reads and writes it, the engine replicates it in the metadata so a
// reservation survives failover. Beside the block device because both sides meet here.

export interface ReservationStore {
  load(): Promise<Buffer | null>;
  save(state: Buffer): Promise<void>;
  /** Largest serialized state it keeps (the replicated store: what the superblock holds). */
  readonly capacity?: number;
}

/** A store that lives as long as the target: for devices nothing replicates. */
export function memoryReservationStore(): ReservationStore {
  let saved: Buffer | null = null;
  return {
    load: () => Promise.resolve(saved),
    save: (b) => {
      saved = Buffer.from(b);
      return Promise.resolve();
    },
  };
}
