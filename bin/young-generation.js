// V8's heap sizing for the long-running or memory-heavy commands. By default V8's young
// generation (new space) reaches 64 MiB in a `lastcall work` process, and a worker's old
// generation grows to several times what lives in it before V8 collects it: memory kept resident
// although most of it is garbage. These flags can only be given when V8 starts, so the launcher
// replaces its own process (process.execve: same pid, same signals, same file descriptors) by
// Node started with them, before the first TypeScript module loads. An operator's own
// --max-semi-space-size (command line or NODE_OPTIONS) or --heap-growing-percent (command line)
// wins. Measured in docs/memory.md. Plain JavaScript, as bin/lastcall.js.

/** MiB per semi-space, by command (`subscribers import` by its first two words). */
export const SEMI_SPACE_MIB = { work: 4, 'subscribers import': 2 };
/** How far the old generation may grow past what survived the last full collection before the
 *  next one, in percent, by command. A worker's live heap is small (about 55 MiB at a fan-out's
 *  peak) but it allocates fast, and V8's own factor let the heap reach 290 MiB of pages, most of
 *  it garbage. Not for the import: it cost a quarter more CPU there (docs/memory.md). */
export const HEAP_GROWING_PERCENT = { work: 20 };

/** glibc malloc settings put in the restarted process's environment, by command, unless the
 *  operator set them. The import frees a batch buffer of about 400 KB every 2,000 rows; after the
 *  first such free glibc raises its mmap threshold, and the later ones stay resident in its heap
 *  once freed. A fixed threshold maps and unmaps them: 16–23 MB less at the 1M import's peak,
 *  same time (docs/memory.md). Other C libraries ignore the variable. */
export const MALLOC_ENV = { 'subscribers import': { MALLOC_MMAP_THRESHOLD_: '131072' } };

const FLAG = '--max-semi-space-size';
const GROWING = '--heap-growing-percent';

/** The command line naming the command: its first two words that are not options. */
function commandOf(argv) {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const two = words.slice(0, 2).join(' ');
  if (two in SEMI_SPACE_MIB) return two;
  return words[0] in SEMI_SPACE_MIB ? words[0] : undefined;
}

/**
 * The argument vector to restart `proc` (process) with, or undefined when it should run as it
 * is: a command not listed, the flags already given, or no process.execve (Node < 23.11, Windows).
 */
export function youngGenerationRestart(proc) {
  if (typeof proc.execve !== 'function' || proc.platform === 'win32') return undefined;
  const command = commandOf(proc.argv);
  if (command === undefined) return undefined;
  const given = [...proc.execArgv, ...(proc.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const set = (flag) =>
    given.some(
      (a) =>
        a === flag || a.startsWith(`${flag}=`) || a.startsWith(flag.replaceAll('-', '_').replace('__', '--')),
    );
  const flags = [];
  if (!set(FLAG)) flags.push(`${FLAG}=${SEMI_SPACE_MIB[command]}`);
  if (command in HEAP_GROWING_PERCENT && !set(GROWING))
    flags.push(`${GROWING}=${HEAP_GROWING_PERCENT[command]}`);
  if (flags.length === 0) return undefined;
  return [proc.execPath, ...proc.execArgv, ...flags, ...proc.argv.slice(1)];
}

/** The environment to restart `proc` with: its own, plus MALLOC_ENV's settings for the command
 *  that it does not set already. */
export function restartEnvironment(proc) {
  const env = { ...proc.env };
  for (const [name, value] of Object.entries(MALLOC_ENV[commandOf(proc.argv)] ?? {})) env[name] ??= value;
  return env;
}
