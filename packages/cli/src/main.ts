#!/usr/bin/env node
import { runSts } from './sts-cli.ts';

// Output piped into `head` and closed early is not an error of the command.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await runSts(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stdin: process.stdin,
  stderrIsTTY: Boolean(process.stderr.isTTY),
});
