#!/usr/bin/env node
// cdktf-sovereign-hetzner: the operational commands that go with the constructs.
import { runCli } from './run-cli';

runCli(process.argv.slice(2), { env: process.env, out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) })
  .then((code) => { process.exitCode = code; });
