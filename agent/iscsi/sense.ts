// SCSI status codes and fixed-format sense data (SPC-4 §4.5.3).

export const Status = {
  Good: 0x00,
  CheckCondition: 0x02,
  ConditionMet: 0x04,
  Busy: 0x08,
  ReservationConflict: 0x18,
  TaskSetFull: 0x28,
  TaskAborted: 0x40,
} as const;

export const SenseKey = {
  NoSense: 0x0,
  NotReady: 0x2,
  MediumError: 0x3,
  HardwareError: 0x4,
  IllegalRequest: 0x5,
  UnitAttention: 0x6,
  DataProtect: 0x7,
  AbortedCommand: 0xb,
  Miscompare: 0xe,
} as const;

export interface SenseInfo {
  key: number;
  asc: number;
  ascq: number;
  /** INFORMATION field (e.g. the offset of the first miscompare); sets VALID. */
  info?: number;
}

export function senseFixed(s: SenseInfo): Buffer {
  const b = Buffer.alloc(18);
  b[0] = s.info !== undefined ? 0xf0 : 0x70;
  b[2] = s.key & 0x0f;
  if (s.info !== undefined) b.writeUInt32BE(s.info >>> 0, 3);
  b[7] = 10;
  b[12] = s.asc;
  b[13] = s.ascq;
  return b;
}

/** The sense conditions the command layer reports, by name. */
export const Sense = {
  invalidOpcode: { key: SenseKey.IllegalRequest, asc: 0x20, ascq: 0x00 },
  lbaOutOfRange: { key: SenseKey.IllegalRequest, asc: 0x21, ascq: 0x00 },
  invalidFieldInCdb: { key: SenseKey.IllegalRequest, asc: 0x24, ascq: 0x00 },
  lunNotSupported: { key: SenseKey.IllegalRequest, asc: 0x25, ascq: 0x00 },
  invalidFieldInParameterList: { key: SenseKey.IllegalRequest, asc: 0x26, ascq: 0x00 },
  parameterListLengthError: { key: SenseKey.IllegalRequest, asc: 0x1a, ascq: 0x00 },
  invalidReleaseOfPr: { key: SenseKey.IllegalRequest, asc: 0x26, ascq: 0x04 },
  insufficientRegistrationResources: { key: SenseKey.IllegalRequest, asc: 0x55, ascq: 0x04 },
  savingParametersNotSupported: { key: SenseKey.IllegalRequest, asc: 0x39, ascq: 0x00 },
  invalidFieldInInformationUnit: { key: SenseKey.IllegalRequest, asc: 0x0e, ascq: 0x03 },
  writeProtected: { key: SenseKey.DataProtect, asc: 0x27, ascq: 0x00 },
  miscompare: { key: SenseKey.Miscompare, asc: 0x1d, ascq: 0x00 },
  mediumError: { key: SenseKey.MediumError, asc: 0x11, ascq: 0x00 },
  writeError: { key: SenseKey.MediumError, asc: 0x0c, ascq: 0x00 },
  notReadyTransitioning: { key: SenseKey.NotReady, asc: 0x04, ascq: 0x0a },
  resetOccurred: { key: SenseKey.UnitAttention, asc: 0x29, ascq: 0x00 },
  noSense: { key: SenseKey.NoSense, asc: 0x00, ascq: 0x00 },
} as const satisfies Record<string, SenseInfo>;
