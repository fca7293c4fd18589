// Serial number arithmetic (RFC 1982, 32 bits) and the CmdSN window (RFC 7143 §4.2.2.1), pure.

export function snLess(a: number, b: number): boolean {
  const d = (b - a) >>> 0;
  return d !== 0 && d < 0x80000000;
}

export const snAdd = (a: number, n: number): number => (a + n) >>> 0;

export type CmdSnVerdict = 'deliver' | 'queue' | 'drop';

/** Where a non-immediate command falls relative to the window [expCmdSN, maxCmdSN]. */
export function classifyCmdSN(cmdSN: number, expCmdSN: number, maxCmdSN: number): CmdSnVerdict {
  if (cmdSN === expCmdSN) return 'deliver';
  if (snLess(expCmdSN, cmdSN) && !snLess(maxCmdSN, cmdSN)) return 'queue';
  return 'drop';
}
