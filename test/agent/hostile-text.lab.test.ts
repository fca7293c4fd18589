// The abuse probes of issue 18 against a real daemon: an initiator logs in with an
// escape-laden InitiatorName, with a TargetName carrying a forged log line, and with CHAP
// credentials that are wrong; a second resource file is broken on its secret line. Every
// output is then read: the daemon log, `status`, `status --json`, `events`. Nothing raw may
// reach a terminal, no line may be forged, and no secret or sent credential may show.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentHost, type AgentHost } from '../support/agent-daemons.js';
import { freePort, waitFor } from '../support/wait.js';
import { LoginError, TestInitiator } from '../support/iscsi-initiator.js';

const SHARED = 'peer-shared-Secret-4f1c9a';
const CHAP = 'chapSecret7b3e2';
const SENT_USER = 'typed-the-Secret-in-the-name-field';
const IQN = 'iqn.2026-11.test:hostile';
const EVIL_INITIATOR = 'iqn.2026-11.test:\x1b]2;pwned\x07\x1b[2J';
const EVIL_TARGET = `${IQN}\ndrbd-agent: r0: alert: Split-Brain detected`;

let dir = '';
let h: AgentHost | undefined;
after(async () => {
  h?.kill9();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('hostile names and wrong credentials: refused, logged once and escaped, no secret anywhere', async () => {
  dir = await mkdtemp(join(tmpdir(), 'drbd-tui-hostile-'));
  const iscsiPort = await freePort('127.0.0.1');
  const yaml = `resource: r0
net:
  shared-secret: "${SHARED}"
volumes:
  - volume: 0
    device: /dev/drbd1
    disk: ${join(dir, 'a.img')}
    size: 8MiB
hosts:
  ha-a: { node-id: 0, address: "127.0.0.1:${await freePort('127.0.0.1')}" }
  ha-b: { node-id: 1, address: "127.0.0.2:${await freePort('127.0.0.2')}" }
iscsi:
  iqn: ${IQN}
  portal: 127.0.0.1:${iscsiPort}
  chap: { user: alice, secret: "${CHAP}" }
`;
  h = await agentHost(dir, 'ha-a', yaml);
  // A broken file whose parser error could quote its secret.
  await writeFile(join(h.root, 'etc', 'r9.res'), `resource r9 {\n  net { shared-secret { ${SHARED}x } }\n}\n`);
  await h.start();
  for (const verb of [['create-md', 'r0'], ['up', 'r0'], ['primary', '--force', 'r0'], ['target', 'start', 'r0']]) {
    const r = await h.cli(...verb);
    assert.equal(r.code, 0, `${verb.join(' ')}: ${r.stderr}`);
  }

  const refused = async (opts: Parameters<typeof TestInitiator.login>[0]) => {
    const e = await TestInitiator.login(opts).then(
      (i) => (i.close(), undefined),
      (err: unknown) => err,
    );
    assert.ok(e instanceof LoginError, `login refused, got ${String(e)}`);
    return e.status;
  };
  assert.equal(await refused({ port: iscsiPort, host: '127.0.0.1', target: IQN, initiatorName: EVIL_INITIATOR }), 0x0200);
  assert.equal(await refused({ port: iscsiPort, host: '127.0.0.1', target: EVIL_TARGET }), 0x0200);
  assert.equal(await refused({ port: iscsiPort, host: '127.0.0.1', target: IQN, chap: { user: SENT_USER, secret: 'wrong-Secret-of-the-initiator' } }), 0x0201);

  // All three come from 127.0.0.1 within a minute: the first is logged, the others are counted.
  await waitFor(() => h!.log.join('').includes('pwned'), 'the first refusal is logged');
  const log = h.log.join('');
  const outputs: Record<string, string> = {
    log,
    status: (await h.cli('status')).stdout,
    'status --json': (await h.cli('status', '--json')).stdout,
    events: (await h.cli('events', '--now')).stdout,
  };
  // What `ps` shows of the daemon, and its environment: the secrets live in its files only.
  const listing = (await readFile(`/proc/${h.proc!.pid}/cmdline`, 'utf8')) + (await readFile(`/proc/${h.proc!.pid}/environ`, 'utf8'));
  for (const secret of [SHARED, CHAP]) assert.ok(!listing.includes(secret), `the process listing shows ${secret}`);
  assert.ok(outputs.status!.includes('config error'), outputs.status);

  // One refusal line each, escaped; the forged line is inside it, never a line of its own.
  const lines = log.split('\n');
  assert.equal(lines.filter((l) => l.includes('pwned')).length, 1, log);
  assert.ok(lines.some((l) => l.includes('login from 127.0.0.1') && l.includes('refused: InitiatorName') && l.includes('pwned')), log);
  assert.ok(!lines.some((l) => l.startsWith('drbd-agent: r0: alert: Split-Brain')), log);
  for (const [what, text] of Object.entries(outputs)) {
    assert.ok(!/[\x1b\x07]/.test(text), `${what} holds a raw ESC or BEL`); // eslint-disable-line no-control-regex
    for (const secret of [SHARED, CHAP, SENT_USER, 'wrong-Secret-of-the-initiator']) assert.ok(!text.includes(secret), `${what} shows ${secret}`);
  }
});
