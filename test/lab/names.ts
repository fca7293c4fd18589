// Everything a lab instance creates is named from its index, so that a later run can find
// and remove what a crashed run left behind without any other record.

export const HOST_NAMES = ['ha-a', 'ha-b'] as const;
export type HostName = (typeof HOST_NAMES)[number];

/** Highest usable index: instance N owns 10.77.N.0/24. */
export const MAX_INSTANCE = 254;

export interface HostNames {
  name: HostName;
  /** `ip netns` name. */
  netns: string;
  /** Root-namespace end of the host's veth, enslaved to the bridge (what cutLink toggles). */
  veth: string;
  address: string;
}

export interface InstanceNames {
  index: number;
  /** Prefix shared by every netns and link of this instance (ends with '-', so 1 ≠ 12). */
  prefix: string;
  bridge: string;
  /** The root namespace's address on the bridge: how the test process reaches the hosts. */
  gateway: string;
  subnet: string;
  hosts: readonly [HostNames, HostNames];
}

export function instanceNames(index: number): InstanceNames {
  if (!Number.isInteger(index) || index < 0 || index > MAX_INSTANCE) throw new Error(`bad lab instance ${index}`);
  const prefix = `drbdlab${index}-`; // longest link name: drbdlab254-br (13 <= 15)
  const host = (i: 0 | 1): HostNames => ({
    name: HOST_NAMES[i],
    netns: `${prefix}${HOST_NAMES[i]}`,
    veth: `${prefix}h${i}`,
    address: `10.77.${index}.${11 + i}`,
  });
  return {
    index,
    prefix,
    bridge: `${prefix}br`,
    gateway: `10.77.${index}.1`,
    subnet: `10.77.${index}.0/24`,
    hosts: [host(0), host(1)],
  };
}
