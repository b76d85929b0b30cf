#!/usr/bin/env node
// Lastcall runs its TypeScript sources directly with Node's type stripping, on by default from
// Node 22.18 and 23.6 (Node 24 LTS targeted): no build step. This file is plain JavaScript that
// any Node parses, so that an older Node gets a sentence and the way out rather than
// ERR_UNKNOWN_FILE_EXTENSION: the version is checked before the first `.ts` import.
// The rule and the wording live in node-version.js (tested on its own; docs/getting-started.md).
// `work` and `subscribers import` then restart themselves with a smaller young generation
// (young-generation.js; docs/memory.md). Node's compile cache keeps the stripped and compiled
// modules between runs, so a command starts on about half the CPU (docs/getting-started.md).
import module from 'node:module';
import { nodeVersionProblem } from './node-version.js';
import { restartEnvironment, youngGenerationRestart } from './young-generation.js';

const problem = nodeVersionProblem(process);
if (problem !== undefined) {
  console.error(problem);
  process.exitCode = 1;
} else {
  const restart = youngGenerationRestart(process);
  if (restart !== undefined) process.execve(process.execPath, restart, restartEnvironment(process));
  module.enableCompileCache?.();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv);
}
