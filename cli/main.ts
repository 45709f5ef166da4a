#!/usr/bin/env node
// cdktf-sovereign-hetzner: the operational commands that go with the constructs.
import { runCli } from './run-cli';

/**
 * Writes to `stream` until its reader is gone (`… | head`, a closed terminal): then the rest is dropped, where
 * Node would throw EPIPE from the stream and print a stack trace. The command runs to its end all the same and exits
 * with its own code.
 */
function writer(stream: NodeJS.WriteStream): { line: (line: string) => void; chunk: (chunk: Buffer) => void } {
  let gone = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    gone = true;
  });
  return {
    line: (line) => { if (!gone) stream.write(`${line}\n`); },
    chunk: (chunk) => { if (!gone) stream.write(chunk); },
  };
}

const out = writer(process.stdout);
const err = writer(process.stderr);
runCli(process.argv.slice(2), {
  env: process.env, out: out.line, err: err.line,
  // Into a pipe, a release's steps write through the CLI, so that `release | head` drops their output instead of
  // killing them mid-deploy: a release still runs to its end and takes staging down. A terminal they get as it is.
  ...(process.stdout.isTTY ? {} : { stepOut: out.chunk }),
  ...(process.stderr.isTTY ? {} : { stepErr: err.chunk }),
}).then((code) => { process.exitCode = code; });
