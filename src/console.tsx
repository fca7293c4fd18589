// The interactive console: both hosts' links (ClusterSession, src/ssh) folded into one model
// and rendered by the Ink App (src/ui). This file is the only place where the two meet.
import { useEffect, useState } from 'react';
import { Box, render } from 'ink';
import type { ClusterModel } from './cluster/model.js';
import { ClusterSession } from './ssh/cluster-session.js';
import { runGuarded } from './ssh/run-action.js';
import type { UnknownHost } from './ssh/connect.js';
import type { ConsoleActions } from './ui/actions.js';
import { App } from './ui/App.js';
import { useTerminalSize } from './ui/hooks.js';
import { QuestionDialog, questionHeight, useQuestionEntry, type Question } from './ui/QuestionDialog.js';
import { pushQuestion } from './ui/push-question.js';
import { decideTheme } from './ui/theme.js';
import { ThemeContext } from './ui/theme-context.js';
import { copyResourceFile, pushResourceFile, readLocalResourceFile, watchDrift, type PushHooks } from './ssh/config-push.js';
import { recordRunbook, runbookLog, watchRunbooks } from './ssh/runbook-journal.js';

export interface ConsoleOptions {
  hosts: [string, string];
  readOnly: boolean;
  configFile?: string;
  identityFile?: string;
  /** `--config FILE`: a resource file to put on both hosts once both are up. */
  resourceFile?: string;
  /** false: `--no-unicode` (ASCII glyphs and borders whatever the locale says). */
  unicode?: boolean;
  /** `--refresh`/`--slow-link`: minimum milliseconds between frames caused by updates; keys answer at once. */
  refreshMs?: number;
}

interface Asked {
  question: Question;
  answer: (a: string | boolean) => void;
}

/** One question at a time, asked through the UI; resolves with the operator's answer. */
class Questions {
  private queue: Asked[] = [];
  private listener: (q: Asked | undefined) => void = () => undefined;

  ask(question: Question): Promise<string | boolean> {
    return new Promise((resolve) => {
      const entry: Asked = {
        question,
        answer: (a) => {
          // Once only: a second answer would drop the next question.
          if (this.queue[0] !== entry) return;
          this.queue.shift();
          this.listener(this.queue[0]);
          resolve(a);
        },
      };
      this.queue.push(entry);
      if (this.queue.length === 1) this.listener(this.queue[0]);
    });
  }

  subscribe(l: (q: Asked | undefined) => void): void {
    this.listener = l;
    l(this.queue[0]);
  }
}

function Root({ session, questions, actions, refreshMs }: { session: ClusterSession; questions: Questions; actions: ConsoleActions; refreshMs?: number }) {
  const [model, setModel] = useState<ClusterModel>(session.model);
  const [asked, setAsked] = useState<Asked | undefined>(undefined);
  useEffect(() => {
    const onChange = (m: ClusterModel) => setModel(m);
    session.on('change', onChange);
    questions.subscribe(setAsked);
    return () => {
      session.off('change', onChange);
    };
  }, [session, questions]);
  const { typed, rejected } = useQuestionEntry(asked);
  const { width, height } = useTerminalSize();
  // The App fills the screen: with a question, it gets what the dialog leaves, or a taller
  // frame would push the dialog off the top of the terminal.
  const maxHeight = Math.max(6, height - 3);
  const appHeight = asked ? height - questionHeight(asked.question, width, maxHeight) : height;
  return (
    <Box flexDirection="column">
      {asked ? <QuestionDialog question={asked.question} width={width} typed={typed} rejected={rejected} maxHeight={maxHeight} /> : null}
      {appHeight >= 3 ? <App model={model} actions={actions} inputActive={!asked} width={width} height={appHeight} minFrameMs={refreshMs} /> : null}
    </Box>
  );
}

function pushHooks(questions: Questions): PushHooks {
  return {
    offerSecret: async (label) =>
      (await questions.ask({
        title: `${label} has no shared-secret`,
        body: [
          'The peer link authenticates every connection with it: without one it runs unauthenticated, and whatever reaches the peer port from the peer address can replicate into the disk.',
          'Generate one (24 random bytes from the operating system) and put the same file, with it, on both hosts? The next screen shows the change before anything is written.',
        ],
        kind: 'yes-no',
      })) === true,
    confirm: async (plan) => (await questions.ask(pushQuestion(plan))) === true,
  };
}

/** Both hosts up (the file goes to both or to neither); resolves false when the console stops first. */
function bothUp(session: ClusterSession, stopped: Promise<void>): Promise<boolean> {
  const up = () => session.model.hosts.every((h) => h.reach.state === 'up');
  if (up()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onChange = () => {
      if (!up()) return;
      session.off('change', onChange);
      resolve(true);
    };
    session.on('change', onChange);
    void stopped.then(() => {
      session.off('change', onChange);
      resolve(false);
    });
  });
}

export async function runConsole(opts: ConsoleOptions): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write('drbd-tui: the console needs a terminal (stdin and stdout must be a TTY); from scripts use: drbd-tui status [--json] HOST_A HOST_B\n');
    return 2;
  }
  const questions = new Questions();
  const session = new ClusterSession({
    hosts: opts.hosts,
    readOnly: opts.readOnly,
    configFile: opts.configFile,
    identityFile: opts.identityFile,
    onUnknownHost: async (h: UnknownHost) =>
      (await questions.ask({ title: `${h.alias}: unknown host key`, body: h.message.split('\n'), kind: 'yes-no' })) === true,
    onPassphrase: async (keyPath, attempt) => {
      const a = await questions.ask({ title: `Passphrase for ${keyPath}${attempt > 1 ? ` (attempt ${attempt})` : ''}`, body: [], kind: 'secret' });
      return typeof a === 'string' ? a : undefined;
    },
    deploy: opts.readOnly
      ? undefined
      : {
          confirmReplace: async (r) =>
            (await questions.ask({ title: 'Replace the running agent?', body: [typeof r === 'string' ? r : JSON.stringify(r)], kind: 'yes-no' })) === true,
        },
  });

  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  const actions: ConsoleActions = {
    run: (guard) => runGuarded(session, guard),
    quit: () => finish(),
    async copyConfig(resource, host) {
      const outcome = await copyResourceFile(session, host, resource, pushHooks(questions));
      // What adjust said on each host does not fit a toast's line.
      if (!outcome.cancelled) await questions.ask({ title: `${resource}: resource file ${outcome.ok ? 'done' : 'not done'}`, body: [outcome.message], kind: 'notice' });
      return outcome;
    },
    recordRunbook: (record, entry) => recordRunbook(session, record, entry),
    runbookLog: (resource) => runbookLog(session, resource),
  };

  // The alternate screen: the console leaves the operator's scrollback as it was.
  process.stdout.write('\x1b[?1049h');
  const theme = decideTheme(process.env, { unicode: opts.unicode });
  const ink = render(
    <ThemeContext value={theme}>
      <Root session={session} questions={questions} actions={actions} refreshMs={opts.refreshMs} />
    </ThemeContext>,
    { exitOnCtrlC: false },
  );
  session.start();
  const unwatch = watchDrift(session);
  const unwatchRunbooks = watchRunbooks(session);
  if (opts.resourceFile) {
    const path = opts.resourceFile;
    void (async () => {
      const src = await readLocalResourceFile(path);
      const outcome = 'error' in src ? { ok: false, message: src.error } : (await bothUp(session, done)) ? await pushResourceFile(session, src, pushHooks(questions)) : undefined;
      if (outcome) await questions.ask({ title: outcome.ok ? `--config ${path}: done` : `--config ${path}: not done`, body: [outcome.message], kind: 'notice' });
    })();
  }
  // SIGHUP: the terminal went away (window closed, tmux killed); still close the sessions
  // and let the demo remove its agents and files.
  let stopping = false;
  const onSignal = (why: unknown) => {
    if (stopping && why === 'SIGINT') process.exit(130); // a second Ctrl-C: the operator insists
    stopping = true;
    finish();
  };
  // `on`, not `once`: a closing terminal may send SIGHUP twice, and the second must not kill
  // the process halfway through the cleanup.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  // A vanished terminal fails the next frame with EIO: an unhandled 'error' would end the
  // process before the sessions (and the demo's agents and files) are cleaned up.
  process.stdout.on('error', onSignal);
  process.stdin.on('error', onSignal);
  await done;
  unwatch();
  unwatchRunbooks();
  ink.unmount();
  process.stdout.write('\x1b[?1049l');
  await session.close();
  return 0;
}
