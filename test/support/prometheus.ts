// Debian's Prometheus for the suites: promtool, and a real server scraping the agents,
// started by a test and stopped by its pid. Only loopback and lab addresses are scraped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './wait.js';
import { setTimeout as sleep } from 'node:timers/promises';

export function promtool(args: string[], opts: { cwd?: string; input?: string } = {}): { code: number; out: string } {
  const r = spawnSync('promtool', args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/**
 * promtool check metrics' complaints about an exposition text, but one: its lint wants `_total`
 * on every counter, and drbd-reactor's peer-device byte counters have none; keeping its names
 * is the point. A text that does not parse (exit 1) is one complaint.
 */
export function expositionComplaints(text: string): string[] {
  const r = promtool(['check', 'metrics'], { input: text });
  if (r.code !== 0 && r.code !== 3) return [`exit ${r.code}: ${r.out}`];
  return r.out.split('\n').filter((l) => l !== '' && !/^drbd_peerdevice_(sent|received)_bytes counter metrics should have "_total" suffix$/.test(l));
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusServer {
  url: string;
  proc: ChildProcess;
  log: string[];
  /** An instant query through the HTTP API (/api/v1/query). */
  query(q: string): Promise<Sample[]>;
  /** Polls the query until pred holds on its result; throws with the last result after timeoutMs. */
  queryWhen(q: string, pred: (s: Sample[]) => boolean, what: string, timeoutMs?: number): Promise<Sample[]>;
  stop(): Promise<void>;
}

/** Prometheus scraping `targets` (host:port) every second as job drbd-tui, with `ruleFiles` evaluated every second. */
export async function startPrometheus(targets: string[], ruleFiles: string[] = []): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'drbd-tui-prometheus-'));
  const port = await freePort('127.0.0.1');
  const config = `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
${ruleFiles.map((f) => `  - ${JSON.stringify(resolve(f))}\n`).join('')}scrape_configs:
  - job_name: drbd-tui
    static_configs:
      - targets: ${JSON.stringify(targets)}
`;
  await writeFile(join(dir, 'prometheus.yml'), config);
  const proc = spawn('prometheus', ['--config.file', join(dir, 'prometheus.yml'), '--storage.tsdb.path', join(dir, 'data'), '--web.listen-address', `127.0.0.1:${port}`, '--log.level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => log.push(s));
  const url = `http://127.0.0.1:${port}`;
  const query = async (q: string): Promise<Sample[]> => {
    const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (body.status !== 'success') throw new Error(`query ${q}: ${body.error}`);
    return body.data!.result.map((x) => ({ metric: x.metric, value: Number(x.value[1]) }));
  };
  const server: PrometheusServer = {
    url,
    proc,
    log,
    query,
    async queryWhen(q, pred, what, timeoutMs = 20_000) {
      const start = Date.now();
      let last: Sample[] | string = [];
      while (Date.now() - start < timeoutMs) {
        try {
          last = await query(q);
          if (pred(last)) return last;
        } catch (e) {
          last = (e as Error).message;
        }
        await sleep(250);
      }
      throw new Error(`Prometheus: timed out waiting for ${what}; ${q} last gave ${JSON.stringify(last)}; log: ${log.join('')}`);
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        process.kill(proc.pid!, 'SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  // Ready once the API answers.
  await server.queryWhen('vector(1)', (s) => s.length === 1, 'Prometheus to start', 30_000);
  return server;
}
