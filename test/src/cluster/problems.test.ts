import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLine } from '../../../src/cluster/events2.js';
import { applyHostEvent, resourceRows, setDrift, setReachability } from '../../../src/cluster/model.js';
import type { DriftInfo } from '../../../src/cluster/model.js';
import { deriveProblems, worstSeverity, type Problem } from '../../../src/cluster/problems.js';
import { loadScenario } from './fixtures.js';
import { withHostAdvice } from '../../../src/ui/host-trouble.js';

const brief = (ps: Problem[]) => ps.map((p) => `${p.severity} ${p.id}`);

describe('problems, drbdmon style', () => {
  test('healthy: nothing', () => {
    assert.deepEqual(deriveProblems(loadScenario('healthy')), []);
  });

  test('initial sync: one info line with direction, done and ETA; the SyncTarget Inconsistent is not flagged again', () => {
    const ps = deriveProblems(loadScenario('initial-sync'));
    assert.deepEqual(brief(ps), ['info sync:r0/0']);
    assert.equal(ps[0]!.text, 'r0/0 sync ha-a → ha-b 62.50%, ETA 10s');
  });

  test('split brain: an alert naming the runbook; StandAlone and DUnknown peer disks are not repeated', () => {
    const ps = deriveProblems(loadScenario('split-brain'));
    assert.deepEqual(brief(ps), ['alert split-brain:r0']);
    assert.match(ps[0]!.text, /SPLIT BRAIN on r0/);
    assert.equal(ps[0]!.runbook, 'split-brain');
  });

  test('two Primaries: alert', () => {
    let m = loadScenario('split-brain');
    m = applyHostEvent(m, 1, parseEventLine('change resource name:r0 role:Primary')!);
    assert.deepEqual(brief(deriveProblems(m)), ['alert split-brain:r0', 'alert two-primaries:r0']);
  });

  test('service address: held by both, not held by the serving Primary, held by a host that does not serve', () => {
    const held = (yes: boolean) => parseEventLine(`change target name:r0 service-address:10.77.0.100/24 service-interface:eth0 service-held:${yes ? 'yes' : 'no'}`)!;
    const base = loadScenario('primary-iscsi');
    assert.deepEqual(brief(deriveProblems(applyHostEvent(applyHostEvent(base, 0, held(true)), 1, held(false)))), [], 'the serving Primary holds it');
    const both = deriveProblems(applyHostEvent(applyHostEvent(base, 0, held(true)), 1, held(true)));
    assert.deepEqual(brief(both), ['alert service-address:r0']);
    assert.match(both[0]!.text, /^service address 10.77.0.100\/24 of r0 is held by both ha-a and ha-b/);
    const lost = deriveProblems(applyHostEvent(applyHostEvent(base, 0, held(false)), 1, held(false)));
    assert.deepEqual(brief(lost), ['alert service-address:r0']);
    assert.match(lost[0]!.text, /^ha-a serves r0 but does not hold its service address 10.77.0.100\/24/);
    const stray = deriveProblems(applyHostEvent(applyHostEvent(applyHostEvent(base, 0, held(false)), 0, parseEventLine('change target name:r0 state:stopped')!), 1, held(true)));
    assert.ok(brief(stray).includes('alert service-address:r0'), brief(stray).join());
    assert.match(stray.find((p) => p.id === 'service-address:r0')!.text, /^ha-b holds service address 10.77.0.100\/24 of r0 but does not serve it/);
  });

  test('a running target without CHAP on every address: a warning naming the fixes; none with CHAP, a bound portal, or from an agent that does not say', () => {
    const base = loadScenario('primary-iscsi');
    const target = (line: string) => deriveProblems(applyHostEvent(base, 0, parseEventLine(`change target name:r0 ${line}`)!));
    const open = target('chap:no portal:0.0.0.0:3260');
    assert.deepEqual(brief(open), ['warn exposed:r0:0']);
    assert.equal(open[0]!.text, "r0's target accepts any initiator on every address: bind the portal to the storage network or the service address, or require CHAP (ha-a)");
    assert.deepEqual(brief(target('chap:no portal:[::]:3260')), ['warn exposed:r0:0']);
    assert.deepEqual(brief(target('chap:yes portal:0.0.0.0:3260')), []);
    assert.deepEqual(brief(target('chap:no portal:10.77.0.11:3260')), []);
    assert.deepEqual(brief(target('portal:0.0.0.0:3260')), []);
  });

  test('a resource file whose secrets the group or others may read: a warning with the file and chmod 600; none from an agent that does not say', () => {
    const base = loadScenario('primary-iscsi');
    const res = (line: string) => deriveProblems(applyHostEvent(base, 1, parseEventLine(`change resource name:r0 ${line}`)!));
    const exposed = res('config-file:/etc/drbd-tui/r0.yaml config-exposed:0644');
    assert.deepEqual(brief(exposed), ['warn secrets-readable:r0:1']);
    assert.equal(exposed[0]!.text, "r0's resource file /etc/drbd-tui/r0.yaml holds secrets that others on the host may read (mode 0644): chmod 600 /etc/drbd-tui/r0.yaml on ha-b");
    assert.deepEqual(brief(res('config-file:/etc/drbd-tui/r0.yaml')), []);
  });

  test('secrets-readable names the file the secret is read from, with its chmod', () => {
    const base = loadScenario('primary-iscsi');
    const text = (line: string) => deriveProblems(applyHostEvent(base, 1, parseEventLine(`change resource name:r0 ${line}`)!)).find((p) => p.id === 'secrets-readable:r0:1')?.text;
    const cases: Array<[string, string, string | undefined]> = [
      ['its own file', 'config-file:/etc/drbd.d/r0.res config-exposed:0644', "r0's resource file /etc/drbd.d/r0.res holds secrets that others on the host may read (mode 0644): chmod 600 /etc/drbd.d/r0.res on ha-b"],
      [
        'set in common { }',
        'config-file:/etc/drbd.d/r0.res config-exposed:0640 config-exposed-file:/etc/drbd.d/global_common.conf',
        "r0's shared secret is read from /etc/drbd.d/global_common.conf, which others on the host may read (mode 0640): chmod 600 /etc/drbd.d/global_common.conf on ha-b",
      ],
      ['nothing exposed', 'config-file:/etc/drbd.d/r0.res config-exposed-file:/etc/drbd.d/global_common.conf', undefined],
    ];
    for (const [name, line, want] of cases) assert.equal(text(line), want, name);
  });

  test('a peer link without a shared secret: a warning per host in its file’s syntax, with what C does; none from an agent that does not say', () => {
    const base = loadScenario('primary-iscsi');
    const res = (line: string) => applyHostEvent(base, 1, parseEventLine(`change resource name:r0 ${line}`)!);
    const bare = deriveProblems(res('config-file:/etc/drbd.d/r0.res peer-authenticated:no'));
    assert.deepEqual(brief(bare), ['warn unauthenticated:r0:1']);
    assert.equal(bare[0]!.text, 'r0: peer link not authenticated: add net { shared-secret "…"; } to /etc/drbd.d/r0.res, the same on both hosts, so that nothing but the peer can replicate into this disk (ha-b)');
    assert.deepEqual(brief(deriveProblems(res('config-file:/etc/drbd.d/r0.res peer-authenticated:yes'))), []);
    assert.deepEqual(brief(deriveProblems(res('config-file:/etc/drbd.d/r0.res'))), []);
    const m = res('config-file:/etc/drbd-tui/r0.yaml peer-authenticated:no');
    const [shown] = withHostAdvice(deriveProblems(m), m);
    assert.match(shown!.text, /add net: \{ shared-secret: "…" \} to \/etc\/drbd-tui\/r0\.yaml/);
    assert.equal(shown!.advice, 'select r0 on ha-b (Tab) and press C: it generates a secret, shows the change and puts the file on both hosts');
    const ro = { ...m, readOnly: true };
    assert.match(withHostAdvice(deriveProblems(ro), ro)[0]!.advice!, /^a read-only console writes no files/);
  });

  test('one host with a shared secret and the other without: an alert naming the host without it, instead of "degraded"', () => {
    let m = loadScenario('healthy');
    const why = 'ha-b has no shared-secret (its peer link is not authenticated) and this host has one: set the same net shared-secret on both hosts';
    m = applyHostEvent(m, 0, parseEventLine(`change connection name:r0 peer-node-id:1 conn-name:ha-b connection:Connecting last-error:"${why}"`)!);
    const ps = deriveProblems(m).filter((x) => x.resource === 'r0' && !x.id.startsWith('peer-disk') && !x.id.startsWith('disk'));
    assert.deepEqual(ps.map((p) => `${p.severity} ${p.id}`), ['alert secret-mismatch:r0:0']);
    assert.equal(ps[0]!.text, `r0 on ha-a: ${why}. The link keeps trying`);
  });

  test('peer down: degraded warn for the connection, no cascade on the DUnknown peer disk', () => {
    const ps = deriveProblems(loadScenario('peer-down'));
    assert.deepEqual(brief(ps), ['warn disconnected:r0']);
    assert.match(ps[0]!.text, /degraded.*Connecting/);
  });

  test('outdated peer: StandAlone and Outdated (degraded, one side only) warns', () => {
    const ps = deriveProblems(loadScenario('outdated-peer'));
    assert.deepEqual(brief(ps), ['warn standalone:r0:1', 'warn disk:r0/0:1']);
    assert.match(ps[1]!.text, /Outdated on ha-b \(degraded: only ha-a has UpToDate data\)/);
  });

  test('StandAlone says why', () => {
    let m = loadScenario('healthy');
    m = applyHostEvent(m, 0, parseEventLine('change connection name:r0 peer-node-id:1 conn-name:ha-b connection:StandAlone last-error:"authentication failed"')!);
    const p = deriveProblems(m).find((x) => x.id.startsWith('standalone'))!;
    assert.equal(p.text, 'r0 StandAlone on ha-a (authentication failed): it will not reconnect by itself');
  });

  test('authentication failing while Connecting: an alert naming the address and the fix, instead of "degraded"', () => {
    let m = loadScenario('healthy');
    m = applyHostEvent(m, 0, parseEventLine('change connection name:r0 peer-node-id:1 conn-name:ha-b connection:Connecting last-error:"authentication failed from 10.77.0.12"')!);
    const ps = deriveProblems(m).filter((x) => x.resource === 'r0' && !x.id.startsWith('peer-disk') && !x.id.startsWith('disk'));
    assert.deepEqual(ps.map((p) => `${p.severity} ${p.id}`), ['alert auth-failed:r0:0']);
    assert.equal(
      ps[0]!.text,
      "r0 on ha-a: authentication failed from 10.77.0.12: the shared secret differs between ha-a and ha-b: put the same resource file on both (drbd-tui --config r0.yaml ha-a ha-b); if it is the same, something else connects from the peer's address. The link keeps trying",
    );
  });

  test('one host with net.tls and the other without: an alert that says which and the fix, instead of "degraded"', () => {
    let m = loadScenario('healthy');
    const why = 'ha-b does not speak TLS on the peer link: set net.tls psk on both hosts, or on neither';
    m = applyHostEvent(m, 0, parseEventLine(`change connection name:r0 peer-node-id:1 conn-name:ha-b connection:Connecting last-error:"${why}"`)!);
    const ps = deriveProblems(m).filter((x) => x.resource === 'r0' && !x.id.startsWith('peer-disk') && !x.id.startsWith('disk'));
    assert.deepEqual(ps.map((p) => `${p.severity} ${p.id}`), ['alert tls-mismatch:r0:0']);
    assert.equal(ps[0]!.text, `r0 on ha-a: ${why}. The link keeps trying`);
  });

  test('the UpToDate Primary out of sight is not "no UpToDate copy anywhere": its last known state stands', () => {
    let m = loadScenario('outdated-peer');
    m = setReachability(m, 0, { state: 'unreachable', error: 'no route to host' });
    const ps = deriveProblems(m);
    assert.deepEqual(brief(ps), ['alert host:0', 'alert uptodate-out-of-sight:r0/0', 'warn standalone:r0:1', 'warn disk:r0/0:1']);
    assert.match(ps[1]!.text, /the only UpToDate copy of r0\/0 is on ha-a \(last known\), out of sight: bring ha-a back; do not force-promote or wipe the other node/);
  });

  test('primary with iSCSI sessions is healthy', () => {
    assert.deepEqual(deriveProblems(loadScenario('primary-iscsi')), []);
  });

  test('a resource not up on a host says why and what to do next, not "not configured or not up"', () => {
    let m = loadScenario('healthy');
    m = applyHostEvent(m, 1, parseEventLine('destroy resource name:r0')!);
    m = applyHostEvent(m, 1, parseEventLine('create not-up name:r0 file:/etc/drbd-tui/r0.yaml cause:backing-disk-missing reason:"backing disk /dev/sdz does not exist" next:"attach the disk, then: drbd-agent up r0" volumes:0')!);
    const p = deriveProblems(m).find((x) => x.id === 'missing:r0:1')!;
    assert.equal(p.text, 'r0 on ha-b: broken: backing disk /dev/sdz does not exist; next: attach the disk, then: drbd-agent up r0');
    // A resource up nowhere is a row all the same, with both hosts' words.
    m = applyHostEvent(m, 0, parseEventLine('create not-up name:r9 file:/etc/drbd-tui/r9.yaml cause:down reason: next:"drbd-agent up r9" volumes:0')!);
    m = applyHostEvent(m, 1, parseEventLine('create not-up name:r9 file:/etc/drbd-tui/r9.yaml cause:metadata-missing reason:"no metadata on /d9" next:"drbd-agent create-md r9, then: drbd-agent up r9" volumes:0')!);
    const row = resourceRows(m).find((r) => r.key === 'r9/0')!;
    assert.deepEqual(row.sides.map((s) => [s.present, s.notUp?.cause]), [[false, 'down'], [false, 'metadata-missing']]);
    assert.deepEqual(deriveProblems(m).filter((x) => x.resource === 'r9').map((x) => x.text), [
      'r9 on ha-a: configured, down; next: drbd-agent up r9',
      'r9 on ha-b: broken: no metadata on /d9; next: drbd-agent create-md r9, then: drbd-agent up r9',
    ]);
  });

  test('config drift and config errors with file:line:col', () => {
    const ps = deriveProblems(loadScenario('config-drift'));
    assert.deepEqual(brief(ps), ['warn config-error:1:/etc/drbd-tui/r2.yaml:4:11', 'warn config-drift:r0']);
    assert.equal(ps[0]!.text, 'ha-b: /etc/drbd-tui/r2.yaml:4:11: protocol: expected A, B or C, got "D"');
    assert.equal(ps[1]!.text, 'config drift: r0: ha-a and ha-b run different resource files (config hashes differ); C on the host whose file is right copies it to the other');
  });

  test('a config error that keeps a resource from loading is said once: on its resource\'s line, with the next step', () => {
    let m = loadScenario('config-drift');
    m = applyHostEvent(m, 1, parseEventLine('create not-up name:r2 file:/etc/drbd-tui/r2.yaml cause:config-error reason:"/etc/drbd-tui/r2.yaml:4:11: protocol: expected A, B or C, got \\"D\\"" next:"fix /etc/drbd-tui/r2.yaml:4:11, then: drbd-agent adjust" volumes:')!);
    const ps = deriveProblems(m);
    // ha-a has no file for r2: that is said too.
    assert.deepEqual(brief(ps), ['warn config-drift:r0', 'warn missing:r2:0', 'warn missing:r2:1']);
    assert.equal(ps[2]!.text, 'r2 on ha-b: broken: /etc/drbd-tui/r2.yaml:4:11: protocol: expected A, B or C, got "D"; next: fix /etc/drbd-tui/r2.yaml:4:11, then: drbd-agent adjust');
  });

  test('a Failed disk of a resource that is up says why', () => {
    let m = loadScenario('healthy');
    m = applyHostEvent(m, 0, parseEventLine('change device name:r0 volume:0 minor:1 disk:Failed')!);
    m = applyHostEvent(m, 0, parseEventLine('change connection name:r0 peer-node-id:1 conn-name:ha-b connection:StandAlone last-error:"metadata write failed on volume 0: EIO; the disk is Failed: repair it, then detach and attach"')!);
    const p = deriveProblems(m).find((x) => x.id === 'disk:r0/0:0')!;
    assert.equal(p.severity, 'alert');
    assert.equal(p.text, 'r0/0 Failed on ha-a: metadata write failed on volume 0: EIO; the disk is Failed: repair it, then detach and attach (degraded: only ha-b has UpToDate data)');
  });

  test('config drift names the differing settings once the console has read both files, while the hashes are still those', () => {
    const m = loadScenario('config-drift');
    const hashes = resourceRows(m).find((r) => r.resource === 'r0')!.sides.map((s) => s.configHash) as [string, string];
    const files: [string, string] = ['/etc/drbd-tui/r0.yaml', '/etc/drbd-tui/r0.res'];
    const text = (info: DriftInfo) => deriveProblems(setDrift(m, 'r0', info)).find((p) => p.id === 'config-drift:r0')!.text;
    assert.equal(
      text({ hashes, files, fields: ['protocol', 'volumes.0.size'] }),
      'config drift: r0: ha-a and ha-b differ in protocol, volumes.0.size (ha-a /etc/drbd-tui/r0.yaml, ha-b /etc/drbd-tui/r0.res); C on the host whose file is right copies it to the other',
    );
    assert.match(text({ hashes, files, fields: [] }), /the files on ha-a and ha-b agree .*, but a host still runs older settings/);
    assert.match(text({ hashes, files, unknown: "ha-b's file does not load (see its config error)" }), /run different resource files \(ha-a .*\): ha-b's file does not load/);
    assert.match(text({ hashes: ['old', hashes[1]], files, fields: ['protocol'] }), /config hashes differ/, 'found for other hashes: stale, not shown');
  });

  test('unreachable host: alert with the error; its stale state is not judged', () => {
    const ps = deriveProblems(loadScenario('unreachable'));
    assert.deepEqual(brief(ps), ['alert host:1']);
    assert.equal(ps[0]!.text, 'ha-b unreachable: connect ETIMEDOUT 10.77.0.12:22');
    assert.equal(worstSeverity(ps), 'alert');
    assert.equal(worstSeverity([]), undefined);
  });
});
