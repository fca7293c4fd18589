// Renders the App at an explicit size with a recording ConsoleActions, and drives it with
// keys inside act(), so that every frame asserted on is settled.
import './setup.js';
import { act, type ReactElement } from 'react';
import { render } from 'ink-testing-library';
import { App } from '../../../src/ui/App.js';
import type { ActionOutcome, ConsoleActions } from '../../../src/ui/actions.js';
import type { GuardResult } from '../../../src/cluster/guards.js';
import type { ClusterModel } from '../../../src/cluster/model.js';
import type { UiState } from '../../../src/ui/state.js';
import type { Theme } from '../../../src/ui/theme.js';

export const KEY = { up: '\u001B[A', down: '\u001B[B', tab: '\t', enter: '\r', esc: '\u001B', backspace: '\u007F' };

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;]*m/g;
export const plain = (s: string) => s.replace(ANSI, '');

export interface Harness {
  frame(): string;
  text(): string;
  press(...keys: string[]): Promise<void>;
  rerender(el: ReactElement): Promise<void>;
  unmount(): Promise<void>;
  runs: GuardResult[];
  quits: number;
}

export async function renderApp(
  model: ClusterModel,
  opts: { width?: number; height?: number; outcome?: ActionOutcome | Promise<ActionOutcome>; initialState?: UiState; minFrameMs?: number; now?: number; actions?: Partial<ConsoleActions>; theme?: Theme } = {},
): Promise<Harness> {
  const runs: GuardResult[] = [];
  const h = { quits: 0 };
  const actions: ConsoleActions = {
    run: async (g) => {
      runs.push(g);
      return opts.outcome ?? { ok: true, message: 'done' };
    },
    quit: () => {
      h.quits++;
    },
    ...opts.actions,
  };
  const el = (m: ClusterModel) => (
    <App model={m} actions={actions} width={opts.width ?? 80} height={opts.height ?? 24} minFrameMs={opts.minFrameMs ?? 0} initialState={opts.initialState} now={opts.now} theme={opts.theme} />
  );
  let inst!: ReturnType<typeof render>;
  await act(async () => {
    inst = render(el(model));
  });
  return {
    frame: () => inst.lastFrame() ?? '',
    text: () => plain(inst.lastFrame() ?? ''),
    async press(...keys: string[]) {
      for (const k of keys) {
        await act(async () => {
          inst.stdin.write(k);
        });
      }
    },
    async rerender(e: ReactElement) {
      await act(async () => {
        inst.rerender(e);
      });
    },
    async unmount() {
      await act(async () => {
        inst.unmount();
      });
    },
    runs,
    get quits() {
      return h.quits;
    },
  };
}

/**
 * The foreground and background SGR codes in effect where `word` first appears in a frame
 * (Ink merges neighbouring runs of one colour, so the code need not sit right before it).
 */
export function styleAt(frame: string, word: string): { fg?: number; bg?: number } | undefined {
  let fg: number | undefined;
  let bg: number | undefined;
  let text = '';
  const styles: Array<{ fg?: number; bg?: number }> = [];
  // eslint-disable-next-line no-control-regex
  const re = /\u001B\[([0-9;]*)m|([^\u001B]+)/g;
  for (const m of frame.matchAll(re)) {
    if (m[1] !== undefined) {
      for (const c of m[1].split(';').map(Number)) {
        if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) fg = c;
        else if (c === 39 || c === 0) fg = undefined;
        if ((c >= 40 && c <= 47) || (c >= 100 && c <= 107)) bg = c;
        else if (c === 49 || c === 0) bg = undefined;
      }
    } else if (m[2] !== undefined) {
      for (const ch of m[2]) {
        text += ch;
        styles.push({ fg, bg });
      }
    }
  }
  const i = text.indexOf(word);
  return i < 0 ? undefined : styles[i];
}
