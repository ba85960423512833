#!/usr/bin/env node
/**
 * Entry point of the `passport-radius` command (package.json "bin"): runs {@link run} on the process's
 * arguments and streams and exits with its code. See `passport-radius --help`.
 *
 * @packageDocumentation
 */
import { run } from './program';

/**
 * A reader that went away (`passport-radius --help | head -1`) is not a failure of the command: like other
 * Unix tools, end quietly with the command's own exit code. Node ignores SIGPIPE, so a write into the
 * closed pipe fails with EPIPE, emitted as an 'error' event that would otherwise crash the process; the
 * stream is destroyed by it, and later writes to it are dropped.
 */
function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

endQuietlyOnClosedPipe(process.stdout);
endQuietlyOnClosedPipe(process.stderr);

run(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`passport-radius: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
