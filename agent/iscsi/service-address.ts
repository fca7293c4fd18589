// The service address's I/O: `ip` to read, add and remove addresses, `arping` for duplicate
// address detection and the gratuitous ARP that moves initiators' ARP caches to this host.
// execFile with timeouts, never a shell; the decisions are in service-address-decision.ts.
import { execFile, spawn } from 'node:child_process';
import type { ServiceAddressConfig } from '../config/types.js';
import { locateTool as locate } from '../lib/locate-tool.js';
import { dadAnswer, formatServiceAddress, parseIpAddrJson, type LocalInterface } from './service-address-decision.js';

const TOOLS = { ip: 'iproute2', arping: 'iputils-arping' } as const;
type Tool = keyof typeof TOOLS;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === -1 ? err.message : '') });
    });
  });
}

export class ServiceAddressTools {
  private constructor(private readonly paths: Record<Tool, string>) {}

  /** The tools, or the Debian packages that are missing. */
  static async find(): Promise<ServiceAddressTools | { missing: string[] }> {
    const ip = await locate('ip');
    const arping = await locate('arping');
    if (ip && arping) return new ServiceAddressTools({ ip, arping });
    return { missing: [...(ip ? [] : [TOOLS.ip]), ...(arping ? [] : [TOOLS.arping])] };
  }

  async interfaces(): Promise<LocalInterface[]> {
    const r = await run(this.paths.ip, ['-j', 'addr', 'show'], 5000);
    if (r.code !== 0) throw new Error(`ip -j addr show: ${r.stderr.trim() || `exit ${r.code}`}`);
    return parseIpAddrJson(r.stdout);
  }

  /**
   * `ip -o monitor address`: calls `changed` whenever an address is added or removed anywhere on
   * this host (by us, by an operator, by a DHCP client). Returns the stop function.
   */
  monitor(changed: () => void, failed: (why: string) => void): () => void {
    const child = spawn(this.paths.ip, ['-o', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stopped = false;
    child.stdout.on('data', () => changed());
    child.stderr.resume();
    child.on('error', (e) => failed(e.message));
    child.on('exit', (code) => {
      if (!stopped) failed(`ip monitor address exited (${code})`);
    });
    return () => {
      stopped = true;
      child.kill();
    };
  }

  /** Duplicate address detection: the MAC of whoever answers for the address, or undefined. */
  async whoAnswers(iface: string, address: string): Promise<string | undefined> {
    const r = await run(this.paths.arping, ['-D', '-c', '2', '-w', '2', '-I', iface, address], 5000);
    // 0: nobody answered; 1: someone did; anything else is arping failing (a missing interface…).
    if (r.code === 0) return undefined;
    if (r.code === 1) return dadAnswer(r.stdout) ?? `a host (arping: ${r.stdout.trim().replace(/\s*\n\s*/g, '; ')})`;
    throw new Error(`arping -D on ${iface}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  }

  async add(sa: ServiceAddressConfig, iface: string): Promise<void> {
    const r = await run(this.paths.ip, ['addr', 'add', formatServiceAddress(sa), 'dev', iface], 5000);
    // Already there (a retried start): that is what was wanted.
    if (r.code !== 0 && !/File exists/.test(r.stderr)) throw new Error(`ip addr add ${formatServiceAddress(sa)} dev ${iface}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  async remove(sa: ServiceAddressConfig, iface: string): Promise<void> {
    const r = await run(this.paths.ip, ['addr', 'del', formatServiceAddress(sa), 'dev', iface], 5000);
    if (r.code !== 0 && !/Cannot assign requested address/.test(r.stderr)) throw new Error(`ip addr del ${formatServiceAddress(sa)} dev ${iface}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  /**
   * Gratuitous ARP, three times a second apart: initiators' caches (and switches) learn that
   * the address moved here. Not awaited by target start: the first goes out at once, and the
   * portal listens meanwhile. `signal` ends it when the address goes: an announcement from a
   * host that no longer holds it would read as a conflict to the next holder's detection.
   * Resolves with arping's complaint, if any.
   */
  announce(iface: string, address: string, signal: AbortSignal): Promise<string | undefined> {
    return new Promise((resolve) => {
      const child = spawn(this.paths.arping, ['-U', '-c', '3', '-I', iface, address], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10000, signal });
      let err = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
      child.on('error', (e) => resolve(signal.aborted ? undefined : e.message));
      child.on('close', (code) => resolve(code === 0 || signal.aborted ? undefined : err.trim() || `arping -U exit ${code}`));
    });
  }
}
