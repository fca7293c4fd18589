// Runs the suites with node's test runner: unit tests in parallel, then the lab suites
// (network namespaces, real sshd, real initiators) one file at a time, because they share
// the lab's host names and addresses. Ends with one "tests: N passed, N failed" line.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const mode = process.argv[2] ?? 'all';
const filter = process.argv[3];

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : /\.test\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

const all = walk('test').sort().filter((f) => !filter || f.includes(filter));
const lab = all.filter((f) => /\.lab\.test\.tsx?$/.test(f));
const unit = all.filter((f) => !lab.includes(f));

// Debian packages the lab suites drive for real. Installed here when we are root, so that
// `npm test` on a fresh machine needs nothing else; without root the suites say what is missing.
const labPackages = {
  sshd: { path: '/usr/sbin/sshd', pkg: 'openssh-server' },
  ssh: { path: '/usr/bin/ssh', pkg: 'openssh-client' },
  ip: { path: '/usr/sbin/ip', pkg: 'iproute2' },
  arping: { path: '/usr/bin/arping', pkg: 'iputils-arping' },
  'iscsi-ls': { path: '/usr/bin/iscsi-ls', pkg: 'libiscsi-bin' },
  'qemu-img': { path: '/usr/bin/qemu-img', pkg: 'qemu-utils' },
  'qemu-iscsi': { path: '/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so', pkg: 'qemu-block-extra' },
  tgtd: { path: '/usr/sbin/tgtd', pkg: 'tgt' },
  tmux: { path: '/usr/bin/tmux', pkg: 'tmux' },
  sudo: { path: '/usr/bin/sudo', pkg: 'sudo' },
  drbdadm: { path: '/usr/sbin/drbdadm', pkg: 'drbd-utils' },
  prometheus: { path: '/usr/bin/prometheus', pkg: 'prometheus' },
  promtool: { path: '/usr/bin/promtool', pkg: 'prometheus' },
};

function ensureLabPackages() {
  const exists = (p) => spawnSync('test', ['-e', p]).status === 0;
  const missing = [...new Set(Object.values(labPackages).filter((p) => !exists(p.path)).map((p) => p.pkg))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.log(`lab suites: missing Debian packages ${missing.join(' ')} and not root to install them`);
    return;
  }
  console.log(`lab suites: installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (update.status !== 0 || install.status !== 0) console.log('lab suites: apt-get failed; the suites will report what is missing');
}

const totals = { pass: 0, fail: 0, skipped: 0 };
let failedRun = false;

function run(files, concurrency) {
  if (files.length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'drbd-tui-test-'));
  const tap = join(dir, 'report.tap');
  const r = spawnSync(
    process.execPath,
    [
      '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { stdio: 'inherit' },
  );
  const text = readFileSync(tap, 'utf8');
  for (const key of Object.keys(totals)) {
    const m = text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'));
    if (m) totals[key] += Number(m[1]);
  }
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) failedRun = true;
}

if (mode === 'all' || mode === 'unit') run(unit, 2);
if (mode === 'all' || mode === 'lab') {
  if (lab.length > 0) ensureLabPackages();
  run(lab, 1);
}
console.log(`tests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(failedRun || totals.fail > 0 ? 1 : 0);
