// The volumes of a .res resource: device, disk and meta-disk as DRBD writes them (device
// /dev/drbdN | minor N | drbdN minor N; meta-disk internal only; disk none refused) in a
// resource, volume N { } or on HOST { } section; the loader inherits them field by field.
import type { At, Loc, PathLoc } from './draft.js';
import type { Statement, Token } from './res-syntax.js';
import { shown } from './values.js';
import { DRBD_KEYWORDS } from './drbd-options.js';
import { at } from './res-report.js';
import type { Reporter } from './res-report.js';
import { collectOptions } from './res-options.js';
import type { Written } from './res-options.js';

export interface Paths {
  at?: At;
  device?: PathLoc;
  disk?: Loc<string>;
  metaDisk?: Token;
  /** Written directly in its section (the DRBD 8 form), not in volume N { }. */
  implicit?: true;
}

/**
 * `device` as drbdadm reads it: `minor N`, or NAME [minor N] where NAME (/dev/ optional) is
 * /dev/drbdN, or /dev/drbd_ANYTHING with its minor given; undefined when the words are none of
 * these shapes.
 */
export function deviceName(words: readonly string[]): { ok: true; value: string; minor?: number } | { ok: false; message: string } | undefined {
  const number = (x: string | undefined) => (x !== undefined && /^\d+$/.test(x) ? Number(x) : undefined);
  if (words.length === 2 && words[0] === 'minor') {
    const n = number(words[1]);
    return n === undefined ? undefined : { ok: true, value: `/dev/drbd${n}` };
  }
  if (words[0] === 'minor' || (words.length !== 1 && !(words.length === 3 && words[1] === 'minor' && number(words[2]) !== undefined))) return undefined;
  const name = words[0]!.startsWith('/') ? words[0]! : `/dev/${words[0]}`;
  const explicit = number(words[2]);
  if (!name.startsWith('/dev/drbd')) return { ok: false, message: `device ${shown(words[0])} must be named /dev/drbdN (as drbdadm requires), e.g. device /dev/drbd1; or device minor 1;` };
  const own = number(name.slice('/dev/drbd'.length));
  if (own !== undefined && explicit !== undefined && own !== explicit) return { ok: false, message: `device ${name} minor ${explicit}: the minor must match the device name, as drbdadm requires; write device /dev/drbd${explicit} minor ${explicit}; or leave out either` };
  if (own === undefined && !name.startsWith('/dev/drbd_')) return { ok: false, message: `device ${shown(words[0])}: a name other than /dev/drbdN must start with /dev/drbd_ and give its minor, as drbdadm requires, e.g. device /dev/drbd_data minor 1;` };
  if (own === undefined && explicit === undefined) return { ok: false, message: `device ${name} has no minor number: write device ${name} minor N; (or name it /dev/drbdN)` };
  return own === undefined ? { ok: true, value: name, minor: explicit } : { ok: true, value: name };
}

/** A device/disk/meta-disk statement (or disk { options }) into `p`; false when `s` is none of them. */
export function pathStmt(r: Reporter, own: Written[], s: Statement, p: Paths): boolean {
  const k = s.key.text;
  if (k === 'disk' && s.block) {
    collectOptions(r, s, 'disk', own);
    return true;
  }
  if (k === 'device') {
    if (p.device) {
      r.err(at(s.key), 'device is set twice in the same section; keep one');
      return true;
    }
    const first = s.args[0];
    const d = s.block || !first ? undefined : deviceName(s.args.map((t) => t.text));
    if (d === undefined) r.shape(s, 'device must be a path or a minor number, e.g. device /dev/drbd1; device minor 1; or device drbd1 minor 1;');
    else if (d.ok) p.device = { value: d.value, at: at(first!), ...(d.minor !== undefined ? { minor: d.minor } : {}) };
    else r.err(at(first!), d.message);
    p.at ??= at(s.key);
    return true;
  }
  if (k === 'disk') {
    if (p.disk) {
      r.err(at(s.key), 'disk is set twice in the same section; keep one');
      return true;
    }
    const t = r.one(s, 'disk /dev/sdb1;');
    if (t?.text === 'none') r.err(at(t), 'disk none (a diskless node) is not supported: each host needs its own backing disk; give it one (disk /dev/sdb1;)');
    else if (t && !t.text.startsWith('/')) r.err(at(t), `disk must be an absolute path to a block device or file, e.g. disk /dev/sdb1; (got ${shown(t.text)})`);
    else if (t) p.disk = { value: t.text, at: at(t) };
    p.at ??= at(s.key);
    return true;
  }
  if (k === 'meta-disk' || k === 'flexible-meta-disk') {
    if (p.metaDisk) {
      r.err(at(s.key), `${k} is set twice in the same section; keep one`);
      return true;
    }
    const t = s.args[0];
    if (!t || s.block) r.shape(s, `${k} takes one value, e.g. ${k} internal;`);
    else if (t.text !== 'internal' || s.args.length > 1) {
      r.err(at(t), `${k} ${s.args.map((x) => x.text).join(' ')} is an external meta-disk, which drbd-tui does not support: it keeps its metadata at the end of the backing disk; write ${k} internal; (and run create-md)`);
    } else p.metaDisk = t;
    return true;
  }
  return false;
}

/** volume N { device; disk; meta-disk; disk { options } } into `into`. */
export function volumeBlock(r: Reporter, own: Written[], s: Statement, into: Map<number, Paths>, where: string): void {
  const t = s.args[0];
  if (!s.block || s.args.length !== 1 || !t) return r.err(at(s.key), 'expected volume N { device ...; disk ...; meta-disk internal; }');
  const n = Number(t.text);
  if (!/^\d+$/.test(t.text) || n > 65535) return r.err(at(t), `volume number must be a whole number from 0 to 65535 (got ${shown(t.text)})`);
  if (into.has(n)) return r.err(at(t), `volume ${n} is defined twice in ${where}; keep one`);
  const p: Paths = { at: at(t) };
  into.set(n, p);
  for (const v of s.block) {
    if (v.key.text === 'skip') continue;
    if (!pathStmt(r, own, v, p)) r.unknown(v, `volume ${n}`, DRBD_KEYWORDS.volume);
  }
}

/** Device/disk written directly in a section are volume 0's (the DRBD 8 form). */
export function mergeDirect(r: Reporter, vols: Map<number, Paths>, direct: Paths, where: Statement): void {
  const v0 = vols.get(0);
  if (!v0) {
    vols.set(0, { ...direct, implicit: true });
    return;
  }
  for (const f of ['device', 'disk'] as const) {
    const d = direct[f];
    if (d && v0[f]) r.err(d.at, `volume 0's ${f} is given twice in ${where.key.text}${where.args[0] ? ` ${where.args[0].text}` : ''} (directly and in volume 0 { }); keep one`);
    else if (d) v0[f] = d;
  }
  v0.metaDisk ??= direct.metaDisk;
  v0.at ??= direct.at;
}
