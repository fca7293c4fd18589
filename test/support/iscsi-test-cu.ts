// Parses `iscsi-test-cu -d` (CUnit) output into per-suite pass / fail / skip counts. libiscsi
// reports a skipped test as passed with a "[SKIPPED]" line, so skips are told apart here.

export interface FamilyCounts {
  pass: number;
  fail: number;
  skip: number;
}

export interface TestCuReport {
  families: Record<string, FamilyCounts>;
  total: FamilyCounts;
  failed: string[];
}

export function parseTestCu(output: string): TestCuReport {
  const families: Record<string, FamilyCounts> = {};
  const failed: string[] = [];
  const total: FamilyCounts = { pass: 0, fail: 0, skip: 0 };
  let suite = '?';
  let test: string | undefined;
  let body = '';
  const finish = (outcome: 'passed' | 'FAILED'): void => {
    if (test === undefined) return;
    const f = (families[suite] ??= { pass: 0, fail: 0, skip: 0 });
    if (outcome === 'FAILED') {
      f.fail++;
      total.fail++;
      failed.push(`${suite}.${test}`);
    } else if (body.includes('[SKIPPED]')) {
      f.skip++;
      total.skip++;
    } else {
      f.pass++;
      total.pass++;
    }
    test = undefined;
    body = '';
  };
  for (const line of output.split('\n')) {
    const s = /^Suite: (\S+)/.exec(line);
    if (s) {
      suite = s[1] as string;
      continue;
    }
    const t = /^\s+Test: (\S+) \.\.\.(.*)$/.exec(line);
    if (t) {
      test = t[1] as string;
      body = t[2] ?? '';
      if (/^passed/.test(body)) finish('passed');
      else if (/FAILED\s*$/.test(body) && !body.includes('[FAILED]')) finish('FAILED');
      continue;
    }
    if (test === undefined) continue;
    if (/^passed\s*$/.test(line)) finish('passed');
    else if (/^FAILED\s*$/.test(line)) finish('FAILED');
    else body += `\n${line}`;
  }
  return { families, total, failed };
}

export function formatTestCuTable(r: TestCuReport): string {
  const rows = Object.entries(r.families).map(([name, c]) => `| ${name} | ${c.pass} | ${c.fail} | ${c.skip} |`);
  return ['| family | pass | fail | skip |', '|---|---|---|---|', ...rows, `| **total** | ${r.total.pass} | ${r.total.fail} | ${r.total.skip} |`].join('\n');
}
