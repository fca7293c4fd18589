// Where a host tool is, for daemons that run it with execFile (never a shell).
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

// A daemon started from a unit or cron may have no sbin directories on its PATH.
const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

export async function locateTool(tool: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter((d) => d.startsWith('/')), ...EXTRA_DIRS];
  for (const d of dirs) {
    const p = join(d, tool);
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  return undefined;
}
