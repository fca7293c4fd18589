// The SCSI commands the target serves, declared once: how each is admitted (access for
// persistent reservations, unit-attention and RESERVE(6) exemptions), how its CDB carries the
// LBA and length, whether its data-out goes into pooled buffers, and which service actions it
// has. Admission, dispatch, REPORT SUPPORTED OPERATION CODES and the connection's buffer choice
// all read this table, so a command cannot be served and forgotten in one of them.

/** SCSI operation codes (SPC-4, SBC-3). */
export const ScsiOp = {
  TestUnitReady: 0x00,
  RequestSense: 0x03,
  Read6: 0x08,
  Write6: 0x0a,
  Inquiry: 0x12,
  ModeSelect6: 0x15,
  Reserve6: 0x16,
  Release6: 0x17,
  ModeSense6: 0x1a,
  StartStopUnit: 0x1b,
  PreventAllowMediumRemoval: 0x1e,
  ReadCapacity10: 0x25,
  Read10: 0x28,
  Write10: 0x2a,
  WriteAndVerify10: 0x2e,
  Verify10: 0x2f,
  PreFetch10: 0x34,
  SynchronizeCache10: 0x35,
  ReadDefectData10: 0x37,
  WriteSame10: 0x41,
  Unmap: 0x42,
  ModeSelect10: 0x55,
  Reserve10: 0x56,
  Release10: 0x57,
  ModeSense10: 0x5a,
  PersistentReserveIn: 0x5e,
  PersistentReserveOut: 0x5f,
  Read16: 0x88,
  CompareAndWrite: 0x89,
  Write16: 0x8a,
  OrWrite16: 0x8b,
  WriteAndVerify16: 0x8e,
  Verify16: 0x8f,
  PreFetch16: 0x90,
  SynchronizeCache16: 0x91,
  WriteSame16: 0x93,
  ServiceActionIn16: 0x9e,
  ReportLuns: 0xa0,
  MaintenanceIn: 0xa3,
  Read12: 0xa8,
  Write12: 0xaa,
  WriteAndVerify12: 0xae,
  Verify12: 0xaf,
  ReadDefectData12: 0xb7,
} as const;

/** Service actions of SERVICE ACTION IN(16) and MAINTENANCE IN that the target serves. */
export const ServiceAction = {
  ReadCapacity16: 0x10,
  GetLbaStatus: 0x12,
  ReportSupportedOperationCodes: 0x0c,
} as const;

/** What a command does to the medium, for persistent-reservation conflicts. */
export type Access = 'read' | 'write' | 'other';

export interface OpcodeInfo {
  name: string;
  access: Access;
  /** The service-action field's values the target serves (REPORT SUPPORTED OPERATION CODES lists each). */
  serviceActions?: readonly number[];
  /** Access per service action, where it differs from `access`. */
  serviceAccess?: Readonly<Record<number, Access>>;
  /** LBA and transfer length at SBC's standard places for the CDB's length. */
  rw?: true;
  /** Served while a unit attention is pending (SPC-4 §5.14). */
  uaExempt?: true;
  /** Served while another I_T nexus holds a RESERVE(6) (SPC-2 §5.5.1). */
  allowedUnderReserve6?: true;
  /** Data-out is read only by the device write the command awaits, so it may live in pooled buffers. */
  pooledDataOut?: true;
}

const PR_IN_ACTIONS = [0, 1, 2];
const PR_OUT_ACTIONS = [0, 1, 2, 3, 4, 5, 6];

export const OPCODES: ReadonlyMap<number, OpcodeInfo> = new Map<number, OpcodeInfo>([
  [ScsiOp.TestUnitReady, { name: 'TEST UNIT READY', access: 'other' }],
  [ScsiOp.RequestSense, { name: 'REQUEST SENSE', access: 'other', uaExempt: true, allowedUnderReserve6: true }],
  [ScsiOp.Read6, { name: 'READ(6)', access: 'read', rw: true }],
  [ScsiOp.Write6, { name: 'WRITE(6)', access: 'write', rw: true }],
  [ScsiOp.Inquiry, { name: 'INQUIRY', access: 'other', uaExempt: true, allowedUnderReserve6: true }],
  [ScsiOp.ModeSelect6, { name: 'MODE SELECT(6)', access: 'write' }],
  [ScsiOp.Reserve6, { name: 'RESERVE(6)', access: 'other' }],
  [ScsiOp.Release6, { name: 'RELEASE(6)', access: 'other', allowedUnderReserve6: true }],
  [ScsiOp.ModeSense6, { name: 'MODE SENSE(6)', access: 'other' }],
  [ScsiOp.StartStopUnit, { name: 'START STOP UNIT', access: 'other' }],
  [ScsiOp.PreventAllowMediumRemoval, { name: 'PREVENT ALLOW MEDIUM REMOVAL', access: 'other' }],
  [ScsiOp.ReadCapacity10, { name: 'READ CAPACITY(10)', access: 'other', allowedUnderReserve6: true }],
  [ScsiOp.Read10, { name: 'READ(10)', access: 'read', rw: true }],
  [ScsiOp.Write10, { name: 'WRITE(10)', access: 'write', rw: true, pooledDataOut: true }],
  [ScsiOp.WriteAndVerify10, { name: 'WRITE AND VERIFY(10)', access: 'write', rw: true }],
  [ScsiOp.Verify10, { name: 'VERIFY(10)', access: 'read', rw: true }],
  [ScsiOp.PreFetch10, { name: 'PRE-FETCH(10)', access: 'read', rw: true }],
  [ScsiOp.SynchronizeCache10, { name: 'SYNCHRONIZE CACHE(10)', access: 'write', rw: true }],
  [ScsiOp.ReadDefectData10, { name: 'READ DEFECT DATA(10)', access: 'other' }],
  [ScsiOp.WriteSame10, { name: 'WRITE SAME(10)', access: 'write' }],
  [ScsiOp.Unmap, { name: 'UNMAP', access: 'write' }],
  [ScsiOp.ModeSelect10, { name: 'MODE SELECT(10)', access: 'write' }],
  [ScsiOp.Reserve10, { name: 'RESERVE(10)', access: 'other' }],
  [ScsiOp.Release10, { name: 'RELEASE(10)', access: 'other', allowedUnderReserve6: true }],
  [ScsiOp.ModeSense10, { name: 'MODE SENSE(10)', access: 'other' }],
  [ScsiOp.PersistentReserveIn, { name: 'PERSISTENT RESERVE IN', access: 'other', serviceActions: PR_IN_ACTIONS, allowedUnderReserve6: true }],
  [ScsiOp.PersistentReserveOut, { name: 'PERSISTENT RESERVE OUT', access: 'other', serviceActions: PR_OUT_ACTIONS, allowedUnderReserve6: true }],
  [ScsiOp.Read16, { name: 'READ(16)', access: 'read', rw: true }],
  [ScsiOp.CompareAndWrite, { name: 'COMPARE AND WRITE', access: 'write' }],
  [ScsiOp.Write16, { name: 'WRITE(16)', access: 'write', rw: true, pooledDataOut: true }],
  [ScsiOp.OrWrite16, { name: 'ORWRITE(16)', access: 'write', rw: true }],
  [ScsiOp.WriteAndVerify16, { name: 'WRITE AND VERIFY(16)', access: 'write', rw: true }],
  [ScsiOp.Verify16, { name: 'VERIFY(16)', access: 'read', rw: true }],
  [ScsiOp.PreFetch16, { name: 'PRE-FETCH(16)', access: 'read', rw: true }],
  [ScsiOp.SynchronizeCache16, { name: 'SYNCHRONIZE CACHE(16)', access: 'write', rw: true }],
  [ScsiOp.WriteSame16, { name: 'WRITE SAME(16)', access: 'write' }],
  [
    ScsiOp.ServiceActionIn16,
    {
      name: 'SERVICE ACTION IN(16)',
      access: 'other',
      serviceActions: [ServiceAction.ReadCapacity16, ServiceAction.GetLbaStatus],
      serviceAccess: { [ServiceAction.GetLbaStatus]: 'read' },
      allowedUnderReserve6: true,
    },
  ],
  [ScsiOp.ReportLuns, { name: 'REPORT LUNS', access: 'other', uaExempt: true, allowedUnderReserve6: true }],
  [ScsiOp.MaintenanceIn, { name: 'MAINTENANCE IN', access: 'other', serviceActions: [ServiceAction.ReportSupportedOperationCodes] }],
  [ScsiOp.Read12, { name: 'READ(12)', access: 'read', rw: true }],
  [ScsiOp.Write12, { name: 'WRITE(12)', access: 'write', rw: true, pooledDataOut: true }],
  [ScsiOp.WriteAndVerify12, { name: 'WRITE AND VERIFY(12)', access: 'write', rw: true }],
  [ScsiOp.Verify12, { name: 'VERIFY(12)', access: 'read', rw: true }],
  [ScsiOp.ReadDefectData12, { name: 'READ DEFECT DATA(12)', access: 'other' }],
]);

/** The CDB's length by its group code (SAM-5 §5.2); group 3 is reserved and 6/7 vendor-specific, read as 16. */
export function cdbLength(op: number): number {
  return CDB_LENGTH_BY_GROUP[op >> 5] ?? 16;
}

const CDB_LENGTH_BY_GROUP: Readonly<Record<number, number>> = { 0: 6, 1: 10, 2: 10, 4: 16, 5: 12 };

/** Service actions live in the low 5 bits of CDB byte 1 for the commands this target serves. */
export function serviceActionOf(cdb: Buffer): number {
  return (cdb[1] as number) & 0x1f;
}

export function accessOf(op: number, cdb: Buffer): Access {
  const info = OPCODES.get(op);
  if (!info) return 'other';
  return info.serviceAccess?.[serviceActionOf(cdb)] ?? info.access;
}

/** Operation codes and service actions in REPORT SUPPORTED OPERATION CODES order. */
export const SUPPORTED: ReadonlyArray<readonly [number, number?]> = [...OPCODES.entries()]
  .sort(([a], [b]) => a - b)
  .flatMap(([op, info]): Array<readonly [number, number?]> => (info.serviceActions ? info.serviceActions.map((sa) => [op, sa] as const) : [[op] as const]));

/** Task management function codes (RFC 7143 §11.5.1). */
export const TaskMgmtFunction = {
  AbortTask: 1,
  AbortTaskSet: 2,
  ClearAca: 3,
  ClearTaskSet: 4,
  LogicalUnitReset: 5,
  TargetWarmReset: 6,
  TargetColdReset: 7,
  TaskReassign: 8,
} as const;

/** Task management response codes (RFC 7143 §11.6.1). */
export const TaskMgmtResponse = {
  FunctionComplete: 0,
  TaskDoesNotExist: 1,
  LunDoesNotExist: 2,
  TaskStillAllegiant: 3,
  AllegianceReassignmentNotSupported: 4,
  FunctionNotSupported: 5,
  AuthorizationFailed: 6,
  FunctionRejected: 255,
} as const;

export function hasPooledDataOut(op: number): boolean {
  return OPCODES.get(op)?.pooledDataOut === true;
}
