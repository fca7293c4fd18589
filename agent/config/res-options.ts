// The options of a resource's sections (net, disk, options, startup, handlers, and 8.4's
// syncer), resolved as drbdadm resolves them: common's under the resource's, option by option;
// a connection's net { } over the resource's. Each gets the meaning drbd-options.ts gives it:
// honoured ones become NetConfig values in DRBD's units, ignored ones the resource's ignored
// list, refused ones errors.
import type { IgnoredOption, Protocol } from './types.js';
import type { Loc } from './draft.js';
import type { Statement, Token } from './res-syntax.js';
import { AFTER_SB_0PRI, AFTER_SB_1PRI, AFTER_SB_2PRI, didYouMean, parsePeerTls, parsePolicy, shown } from './values.js';
import type { PeerTlsMode } from './values.js';
import { DRBD_KEYWORDS, DRBD_OPTIONS, DRBD_VALUES, REFUSED_CONSTRUCTS, SYNCER_HOME, optionRule, valueProblem } from './drbd-options.js';
import type { Section } from './drbd-options.js';
import { at } from './res-report.js';
import type { Reporter } from './res-report.js';

/** The sections a resource inherits from common, option by option (syncer's options count in their DRBD 9 homes). */
export type OptionSection = 'net' | 'disk' | 'options' | 'startup' | 'handlers';

/** One option as written, with the section it counts in (syncer's moved to theirs). */
export interface Written {
  s: Statement;
  section: OptionSection;
  key: string;
  /** The block it was written in: the same key twice in one block is a mistake, in two blocks an override. */
  block: Statement;
  /** The section as written (syncer for its 8.4 options), for the ignored list. */
  writtenIn: Section;
}

/** Options of one section block: checked against DRBD's table, collected for resolution. */
export function collectOptions(r: Reporter, block: Statement, section: Section, into: Written[]): void {
  for (const s of block.block ?? []) {
    const key = s.key.text;
    const rule = optionRule(section, key);
    if (!rule && section === 'syncer' && key === 'rate') {
      r.err(at(s.key), 'syncer { rate } is DRBD 8.3\'s, which drbdadm 9 refuses: write disk { resync-rate N; } (or c-max-rate N; for the ceiling)');
      continue;
    }
    if (!rule) {
      r.unknown(s, section, Object.keys(DRBD_OPTIONS[section]));
      continue;
    }
    if (s.block) {
      r.err(at(s.key), `${key} is an option: write ${key} VALUE; (not a { } block)`);
      continue;
    }
    if (section === 'syncer') {
      const [home, as] = SYNCER_HOME[key]!;
      into.push({ s, section: home, key: as, block, writtenIn: section });
    } else into.push({ s, section: section as OptionSection, key, block, writtenIn: section });
  }
}

/**
 * `common`'s options under the resource's: an option the resource (or its connection) sets
 * replaces common's; a key twice in one block is reported.
 */
export function resolveOptions(r: Reporter, common: readonly Written[], own: readonly Written[]): Written[] {
  const out = new Map<string, Written>();
  for (const w of [...common, ...own]) {
    const k = `${w.section}/${w.key}`;
    const prev = out.get(k);
    if (prev && prev.block === w.block) {
      r.err(at(w.s.key), `${w.key} is set twice in the same section; keep one`);
      continue;
    }
    // `protocol` at the resource's top and in its net { } are one setting written twice.
    const value = (x: Written) => x.s.args[0]?.text.toUpperCase();
    if (prev && w.key === 'protocol' && own.includes(prev) && value(prev) !== value(w)) {
      const p = prev.s.args[0] ?? prev.s.key;
      r.err(at(w.s.args[0] ?? w.s.key), `protocol ${value(w)} contradicts protocol ${value(prev)} at ${p.line}:${p.col}; keep one`);
      continue;
    }
    out.set(k, w);
  }
  return [...out.values()];
}

/** Split-brain policies a .res file may not name, and why (drbdadm's own vocabulary otherwise). */
export const RES_POLICY_REFUSALS: Record<string, string> = {
  'discard-node-NAME': "DRBD 8's form, which drbdadm 9 refuses (a YAML resource file takes it)",
  'discard-local': 'the file is the same on both hosts, so each would discard its own changes; drbd-tui refuses it',
  'discard-remote': "the file is the same on both hosts, so each would discard its peer's changes; drbd-tui refuses it",
  'violently-as0p': "it can overwrite a Primary's data under a mounted file system; drbd-tui refuses it",
};

const RATE_UNITS: Record<string, number> = { '': 1024, k: 1024, m: 1024 ** 2, g: 1024 ** 3, s: 512 };

/** A DRBD rate: KiB/s without a suffix; K, M, G (powers of 1024) or s (sectors) as drbdsetup reads them. */
function parseDrbdRate(r: Reporter, s: Statement): Loc<number> | undefined {
  const t = r.one(s, `${s.key.text} 100M;`);
  if (!t) return undefined;
  const m = /^(\d+)([kKmMgGsS]?)$/.exec(t.text);
  const unit = RATE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m || unit === undefined || Number(m[1]) === 0) {
    r.err(at(t), `${s.key.text} must be a rate in KiB/s, or with a K, M or G suffix, e.g. ${s.key.text} 100M; (got ${shown(t.text)})`);
    return undefined;
  }
  return { value: Number(m[1]) * unit, at: at(t) };
}

export interface Net {
  protocol?: Loc<Protocol>;
  sharedSecret?: Token;
  sb0?: Loc<string>;
  sb1?: Loc<string>;
  sb2?: Loc<string>;
  cMaxRate?: Loc<number>;
  /** drbd-tui's older place for it (drbdadm reads it only in disk { }). */
  cMaxRateInNet?: Loc<number>;
  resyncRate?: Loc<number>;
  pingTimeout?: Loc<number>;
  tls?: Loc<PeerTlsMode>;
  dataIntegrity?: boolean;
}

/** Gives the honoured options their meaning; lists the others as ignored (or refuses them). */
export function applyOptions(r: Reporter, options: readonly Written[], ignored: IgnoredOption[]): Net {
  const net: Net = {};
  const ignore = (w: Written, why: string) => {
    const a = at(w.s.key);
    ignored.push({ option: w.s.key.text, section: w.writtenIn, why, file: a.file ?? r.file, line: a.line, col: a.col });
  };
  for (const w of options) {
    const { s, key } = w;
    const rule = optionRule(w.section, key);
    // SYNCER_HOME only names options of their home section's table.
    if (!rule) throw new Error(`no rule for ${w.section} ${key}`);
    const problem = rule.kind === 'honoured' ? undefined : valueProblem(key, s.args.map((a) => a.text));
    if (problem) {
      const hint = Array.isArray(DRBD_VALUES[key]) && s.args[0] ? didYouMean(s.args[0].text, DRBD_VALUES[key] as readonly string[]) : undefined;
      r.err(at(s.args[0] ?? s.key), `${problem}${hint ? `; did you mean "${hint}"?` : ''}`);
      continue;
    }
    if (rule.kind === 'ignored') {
      ignore(w, rule.why);
      continue;
    }
    if (rule.kind === 'refused-when') {
      const refusal = rule.refuse(s.args.map((a) => a.text));
      if (refusal) r.err(at(s.key), refusal);
      else ignore(w, rule.why);
      continue;
    }
    if (key === 'protocol') {
      const t = r.one(s, 'protocol C;');
      if (!t) continue;
      const p = t.text.toUpperCase();
      if (p !== 'A' && p !== 'B' && p !== 'C') r.err(at(t), `protocol must be A, B or C (got ${shown(t.text)})`);
      else net.protocol = { value: p, at: at(t) };
    } else if (key === 'shared-secret') {
      // Never quote the secret back, even when the statement is malformed.
      if (s.args.length !== 1) r.shape(s, 'shared-secret takes one value in double quotes, e.g. shared-secret "a long random string";');
      else net.sharedSecret = s.args[0];
    } else if (key === 'after-sb-0pri' || key === 'after-sb-1pri' || key === 'after-sb-2pri') {
      // discard-node-NAME is drbd-tui's YAML vocabulary (DRBD 8's); drbdadm 9 refuses it in a .res file.
      const allowed = key === 'after-sb-0pri' ? AFTER_SB_0PRI.filter((v) => v !== 'discard-node-NAME') : key === 'after-sb-1pri' ? AFTER_SB_1PRI : AFTER_SB_2PRI;
      const t = r.one(s, `${key} disconnect;`);
      if (!t) continue;
      const refusal = RES_POLICY_REFUSALS[t.text] ?? (t.text.startsWith('discard-node-') ? RES_POLICY_REFUSALS['discard-node-NAME'] : undefined);
      if (refusal) {
        r.err(at(t), `${key} ${t.text}: ${refusal}; write one of ${allowed.join(', ')}`);
        continue;
      }
      const p = parsePolicy(t.text, allowed);
      if (!p.ok) {
        r.err(at(t), `${key} ${p.message}`);
        continue;
      }
      const l = { value: p.value, at: at(t) };
      if (key === 'after-sb-0pri') net.sb0 = l;
      else if (key === 'after-sb-1pri') net.sb1 = l;
      else net.sb2 = l;
    } else if (key === 'ping-timeout') {
      const t = r.one(s, 'ping-timeout 5;');
      if (!t) continue;
      const n = Number(t.text);
      if (!/^\d+$/.test(t.text) || n < 1 || n > 300) r.err(at(t), `ping-timeout is in tenths of a second and must be a whole number from 1 to 300 (got ${shown(t.text)})`);
      else net.pingTimeout = { value: n / 10, at: at(t) };
    } else if (key === 'tls') {
      const t = r.one(s, 'tls psk;');
      if (!t) continue;
      const p = parsePeerTls(t.text);
      if (p.ok) net.tls = { value: p.value, at: at(t) };
      else r.err(at(t), `tls ${p.message}`);
    } else if (key === 'c-max-rate') {
      const v = parseDrbdRate(r, s);
      if (w.section === 'disk') net.cMaxRate = v;
      else net.cMaxRateInNet = v;
    } else if (key === 'resync-rate') {
      net.resyncRate = parseDrbdRate(r, s);
    } else if (key === 'data-integrity-alg') {
      const t = r.one(s, 'data-integrity-alg crc32c;');
      if (!t) continue;
      net.dataIntegrity = true;
      if (t.text !== 'crc32c') ignore(w, `drbd-tui checksums replicated data with crc32c, not ${t.text}`);
    } else {
      throw new Error(`honoured option ${w.section} ${key} has no meaning here`);
    }
  }
  if (net.cMaxRate && net.cMaxRateInNet) r.err(net.cMaxRateInNet.at, 'c-max-rate is given in both net { } and disk { }: keep the one in disk { }, where DRBD reads it');
  net.cMaxRate ??= net.cMaxRateInNet;
  return net;
}

/** The option statements of common { } (validated once for the whole tree). */
export function commonOptions(r: Reporter, common: Statement | undefined): Written[] {
  const out: Written[] = [];
  for (const s of common?.block ?? []) {
    const k = s.key.text;
    if (k === 'skip') continue;
    if (!(DRBD_KEYWORDS.common as readonly string[]).includes(k)) r.unknown(s, 'common', DRBD_KEYWORDS.common);
    else if (k === 'proxy') r.err(at(s.key), REFUSED_CONSTRUCTS.proxy!);
    else if (!s.block) r.err(at(s.key), `expected ${k} { ... }`);
    else collectOptions(r, s, k as Section, out);
  }
  return out;
}

export function globalSection(r: Reporter, s: Statement): void {
  if (!s.block) return r.err(at(s.key), 'expected global { ... }');
  for (const o of s.block) {
    if (!optionRule('global', o.key.text)) r.unknown(o, 'global', Object.keys(DRBD_OPTIONS.global));
  }
}
