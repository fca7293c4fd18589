// Labs are torn down even when a test forgets to, throws, or the run is interrupted: on
// process exit and on SIGINT/SIGTERM/SIGHUP (then the signal is re-raised so the exit
// status still says what happened). A SIGKILLed run is cleaned by the next createLab.

interface Destroyable {
  destroySync(): void;
}

const live = new Set<Destroyable>();
let installed = false;

function destroyAll(): void {
  for (const lab of [...live]) {
    try {
      lab.destroySync();
    } catch (err) {
      process.stderr.write(`lab teardown failed: ${(err as Error).message}\n`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', destroyAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      destroyAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

export function registerLab(lab: Destroyable): void {
  install();
  live.add(lab);
}

export function unregisterLab(lab: Destroyable): void {
  live.delete(lab);
}
