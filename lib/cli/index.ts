#!/usr/bin/env node
/**
 * Entry point of the `passport-radius` command (package.json "bin"): runs {@link run} on the process's
 * arguments and streams and exits with its code. See `passport-radius --help`.
 *
 * @packageDocumentation
 */
import { run } from './program';

run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`passport-radius: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
