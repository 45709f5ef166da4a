#!/usr/bin/env node
// cdktf-sovereign-hetzner: the operational commands that go with the constructs.
import { runCli } from './run-cli';

/**
 * Writes lines to `stream` until its reader is gone (`… | head`, a closed terminal): then the rest is dropped, where
 * Node would throw EPIPE from the stream and print a stack trace. The command runs to its end all the same (a release
 * still takes staging down) and exits with its own code.
 */
function lineWriter(stream: NodeJS.WriteStream): (line: string) => void {
  let gone = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    gone = true;
  });
  return (line) => {
    if (!gone) stream.write(`${line}\n`);
  };
}

runCli(process.argv.slice(2), { env: process.env, out: lineWriter(process.stdout), err: lineWriter(process.stderr) })
  .then((code) => { process.exitCode = code; });
