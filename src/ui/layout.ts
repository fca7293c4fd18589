// Column widths and vertical budget for the overview, from the terminal size: 80×24 must
// fit, wider and taller terminals get more columns and more lines.

export interface TableColumns {
  name: number;
  role: number;
  disk: number;
  link: number;
  sessions: number;
  /** 0 when there is no room for the peer-disk column. */
  peerDisk: number;
}

const ROLE = 9; // Secondary
const DISK = 12; // Inconsistent
const LINK = 11; // PausedSyncS
const SESS = 2;

export function tableColumns(width: number, longestName: number): TableColumns {
  const perHost = ROLE + 1 + DISK + 1 + LINK + 1 + SESS;
  const base = 2 * perHost + 1; // one blank between the hosts
  const peerDisk = width - base - Math.max(6, longestName) - 2 * (DISK + 1) >= 1 ? DISK : 0;
  const used = base + (peerDisk ? 2 * (peerDisk + 1) : 0);
  const name = Math.max(3, Math.min(Math.max(longestName, 4) + 1, width - used, 24));
  return { name, role: ROLE, disk: DISK, link: LINK, sessions: SESS, peerDisk };
}

export function hostBlockWidth(c: TableColumns): number {
  return c.role + 1 + c.disk + 1 + c.link + 1 + c.sessions + (c.peerDisk ? c.peerDisk + 1 : 0);
}

/** Splits the lines below the header between the table, problems and recent events. */
export function overviewBudget(
  height: number,
  tableLines: number,
  problems: number,
  extra: { toast: boolean },
): { table: number; problems: number; events: number } {
  // `tableLines` includes the table's heading; the header and footer take one line each.
  let free = height - 2 - (extra.toast ? 1 : 0);
  const table = Math.max(2, Math.min(tableLines, free - 1 - (problems > 0 ? 1 : 0)));
  free -= table;
  // The problems title is always there ("no problems" is news too), alerts come first.
  const p = Math.max(0, Math.min(problems, free - 1));
  free -= 1 + p;
  const events = Math.max(0, free - 1); // minus the events title
  return { table, problems: p, events };
}
