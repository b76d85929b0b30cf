#!/usr/bin/env node
// Lastcall runs its TypeScript sources directly with Node's type stripping (Node >= 22.13
// with --experimental-strip-types on by default from 23.6; Node 24 LTS targeted): no build step.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv);
