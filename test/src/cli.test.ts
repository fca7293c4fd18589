// The command line's wiring, where it needs no host: `check`'s usage errors are Nagios' UNKNOWN.
// The built dist/cli.js, as installed (npm test builds first), and quicker to start than tsx.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runConsole } from '../support/console-cli.js';

const CLI = join(import.meta.dirname, '../../dist/cli.js');

describe('drbd-tui command line', () => {
  test('check: a usage error is exit 3 with one UNKNOWN line on stdout (where Nagios reads it)', async () => {
    const table: [string[], RegExp][] = [
      [['check', 'ha-a'], /^DRBD-TUI UNKNOWN - usage: check needs exactly two hosts \(got 1\) \(drbd-tui --help\)\n$/],
      [['check', '--warn-on', 'host,nope', 'ha-a', 'ha-b'], /^DRBD-TUI UNKNOWN - usage: --warn-on host,nope: unknown kind 'nope'; kinds: host, split-brain, .*unauthenticated \(drbd-tui --help\)\n$/],
      [['check', '--ok-on', 'sync', '--crit-on', 'sync', 'ha-a', 'ha-b'], /^DRBD-TUI UNKNOWN - usage: sync is given to both --crit-on and --ok-on: choose one/],
      [['check', '--timeout', '0', 'ha-a', 'ha-b'], /^DRBD-TUI UNKNOWN - usage: --timeout takes seconds > 0/],
      [['check', '--json', 'ha-a', 'ha-b'], /^DRBD-TUI UNKNOWN - usage: Unknown option '--json'/],
    ];
    const runs = await Promise.all(table.map(([args]) => runConsole(CLI, args)));
    runs.forEach((r, n) => {
      const [args, line] = table[n]!;
      assert.equal(r.code, 3, args.join(' '));
      assert.match(r.stdout, line);
      assert.equal(r.stderr, '');
    });
  });

  test('--help lists check with its kinds', async () => {
    const r = await runConsole(CLI, ['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /drbd-tui check \[--warn-on KIND,\.\.\] .* HOST_A HOST_B\n/);
    assert.match(r.stdout, /KIND: host, split-brain, /);
  });
});
