// The runbooks' memory on this host: each resource's run as the consoles last put it
// (<state-dir>/runbooks/<resource>.json, replaced atomically) and the audit log of every step
// (<state-dir>/runbooks/audit.log, JSON lines, appended and fsync'd, rotated to audit.log.1).
// A console that dies mid-procedure leaves the run here; the next one, from any machine, resumes it.
import { mkdir, open, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { Serializer } from './lib/serializer.js';
import { runbookStep } from './protocol/events2.js';
import { validRecord } from './runbook-input.js';
import { AgentError, sameRunbookRun, type RunbookLogEntry, type RunbookLogParams, type RunbookPutParams, type RunbookPutResult, type RunbookRecord } from './protocol/messages.js';

export const AUDIT_LOG = 'audit.log';
/** Past this size the log moves to audit.log.1 (the one before is dropped): two files bound it. */
export const MAX_AUDIT_BYTES = 4 * 1024 * 1024;
export const DEFAULT_LOG_LIMIT = 200;
export const MAX_LOG_LIMIT = 5000;

/** Where a run stands, in the words an operator sees: "disk-replacement(ha-b) active, step 3/5". */
export function runPosition(r: RunbookRecord): string {
  return `${r.runbook}(${r.subject}) ${r.state}, step ${runbookStep(r)}`;
}

export type PutDecision = { kind: 'store' } | { kind: 'older' } | { kind: 'refused'; message: string };

/**
 * What a put does to the stored run. The same run: only a higher seq replaces it (a late or
 * repeated put never undoes progress). Another run: it replaces a finished or abandoned one; an
 * active one only when a console copies a newer record from the other host (`converge`).
 */
export function decidePut(stored: RunbookRecord | undefined, put: RunbookRecord, converge = false): PutDecision {
  if (!stored) return { kind: 'store' };
  if (sameRunbookRun(stored, put)) return put.seq > stored.seq ? { kind: 'store' } : { kind: 'older' };
  if (stored.state !== 'active') return { kind: 'store' };
  if (converge) return Date.parse(put.updated) > Date.parse(stored.updated) ? { kind: 'store' } : { kind: 'older' };
  return { kind: 'refused', message: `finish or abandon the active runbook first: ${stored.resource} ${runPosition(stored)}, started ${stored.started} by ${stored.by}` };
}

export class RunbookStore {
  private readonly runs = new Map<string, RunbookRecord>();
  /** Puts and appends one at a time: the log's order is the order they were accepted in. */
  private readonly serial = new Serializer();

  constructor(
    readonly dir: string,
    private readonly maxLogBytes = MAX_AUDIT_BYTES,
    private readonly warn: (msg: string) => void = () => undefined,
  ) {}

  /** Reads the stored runs; a file that does not parse is reported and left alone. */
  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      try {
        const r = validRecord(JSON.parse(await readFile(join(this.dir, name), 'utf8')));
        if (`${r.resource}.json` !== name) throw new Error(`it holds the run of ${r.resource}`);
        this.runs.set(r.resource, r);
      } catch (e) {
        this.warn(`${join(this.dir, name)}: not a runbook record, ignored: ${(e as Error).message}`);
      }
    }
  }

  records(): RunbookRecord[] {
    return [...this.runs.values()].sort((a, b) => a.resource.localeCompare(b.resource));
  }

  /** Params validated by validRunbookPut. The entry is appended whatever becomes of the record: it happened. */
  put(p: RunbookPutParams): Promise<RunbookPutResult> {
    return this.serial.run(async () => {
      const stored = this.runs.get(p.record.resource);
      const d = decidePut(stored, p.record, p.converge);
      if (d.kind === 'refused') throw new AgentError('refused', d.message);
      if (d.kind === 'store') {
        await writeFileAtomic(join(this.dir, `${p.record.resource}.json`), JSON.stringify(p.record) + '\n', 0o600, 0o700);
        this.runs.set(p.record.resource, p.record);
      }
      if (p.entry) await this.append(p.entry);
      return { record: d.kind === 'store' ? p.record : stored!, stored: d.kind === 'store' };
    });
  }

  /** The newest `limit` entries (of `resource`, or all), oldest first. */
  async log(p: RunbookLogParams = {}): Promise<RunbookLogEntry[]> {
    const limit = Math.max(1, Math.min(MAX_LOG_LIMIT, Math.trunc(p.limit ?? DEFAULT_LOG_LIMIT)));
    const out: RunbookLogEntry[] = [];
    for (const file of [`${AUDIT_LOG}.1`, AUDIT_LOG]) {
      const text = await readFile(join(this.dir, file), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        try {
          const e = JSON.parse(line) as RunbookLogEntry;
          if (p.resource === undefined || e.resource === p.resource) out.push(e);
        } catch {
          // A line cut by a power loss mid-append: the ones around it still count.
        }
      }
    }
    return out.slice(-limit);
  }

  private async append(e: RunbookLogEntry): Promise<void> {
    let line = JSON.stringify(e) + '\n';
    const path = join(this.dir, AUDIT_LOG);
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    const rotate = size > 0 && size + Buffer.byteLength(line) > this.maxLogBytes;
    if (rotate) await rename(path, `${path}.1`);
    const fh = await open(path, 'a+', 0o600);
    try {
      // A line a crash cut short must not swallow this one.
      if (!rotate && size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) line = '\n' + line;
      }
      await fh.write(line);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

}
