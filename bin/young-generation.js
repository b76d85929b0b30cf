// The size of V8's young generation for the long-running or memory-heavy commands. Node sizes
// each semi-space up to 16 MiB (32 MiB for the young generation, 64 MiB reserved with its
// copy): memory that a `lastcall work` process or a million-row import keeps resident although
// what lives in it is short-lived. `--max-semi-space-size` can only be given when V8 starts, so
// the launcher replaces its own process (process.execve: same pid, same signals, same file
// descriptors) by Node started with the flag, before the first TypeScript module loads.
// An operator's own --max-semi-space-size (command line or NODE_OPTIONS) wins. Measured in
// docs/memory.md. Plain JavaScript, as bin/lastcall.js.

/** MiB per semi-space, by command (`subscribers import` by its first two words). */
export const SEMI_SPACE_MIB = { work: 4, 'subscribers import': 2 };

const FLAG = '--max-semi-space-size';

/** The command line naming the command: its first two words that are not options. */
function commandOf(argv) {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  const two = words.slice(0, 2).join(' ');
  if (two in SEMI_SPACE_MIB) return two;
  return words[0] in SEMI_SPACE_MIB ? words[0] : undefined;
}

/**
 * The argument vector to restart `proc` (process) with, or undefined when it should run as it
 * is: a command not listed, the flag already given, or no process.execve (Node < 23.11, Windows).
 */
export function youngGenerationRestart(proc) {
  if (typeof proc.execve !== 'function' || proc.platform === 'win32') return undefined;
  const command = commandOf(proc.argv);
  if (command === undefined) return undefined;
  const given = [...proc.execArgv, ...(proc.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (given.some((a) => a === FLAG || a.startsWith(`${FLAG}=`) || a.startsWith('--max_semi_space_size')))
    return undefined;
  return [proc.execPath, ...proc.execArgv, `${FLAG}=${SEMI_SPACE_MIB[command]}`, ...proc.argv.slice(1)];
}
