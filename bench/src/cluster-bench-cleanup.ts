/**
 * What the cluster benchmark must undo however it ends — child processes to kill, temporary directories to
 * remove — run on normal exit and on SIGINT/SIGTERM (Ctrl-C mid-run). Synchronous, so it also works from
 * the 'exit' event. Forked children exit by themselves when the parent's IPC channel closes, even if the
 * parent is killed with SIGKILL; `tidemark serve` children have no channel, and are only killed from here.
 */
type Undo = () => void;

const undos = new Set<Undo>();
let installed = false;

function runAll(): void {
  for (const undo of [...undos].reverse()) {
    try {
      undo();
    } catch {
      // Best effort: the next one still runs.
    }
  }
  undos.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench cluster: ${signal}, stopping the nodes and removing the temp dirs\n`);
      runAll();
      process.exit(130);
    });
  }
}

/** Registers `undo`; the returned function runs it now (once) and unregisters it. */
export function onCleanup(undo: Undo): () => void {
  install();
  undos.add(undo);
  return () => {
    if (!undos.delete(undo)) return;
    undo();
  };
}
