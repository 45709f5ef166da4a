import { ownCdk } from './cdk';
import { StagingResource } from '../lib/environments/staging-reaper';
import { stagingServersOf } from '../lib/environments/staging-claim';
import type { CliIo } from './run-cli';

/**
 * `staging list --stack NAME --none-up`: exit 1, naming them, when staging servers of the stack are up (`staging claim`
 * runs the same check). A staging server up before a release brings staging up belongs to a release still running, or
 * to one that stopped without taking it down.
 */
export function noneUp(found: readonly StagingResource[], stack: string, io: CliIo): number {
  const up = stagingServersOf(found, stack);
  if (up.length === 0) {
    io.out(`No staging server of ${stack} is up.`);
    return 0;
  }
  io.err(`error: staging of ${stack} is up already: ${up.map((r) => `server ${r.name} (id ${r.id}, expires-at ${r.expiresAt})`).join(', ')}. `
    + 'Another release is rehearsing on it, or one stopped without taking it down; bringing staging up again would rebuild it under '
    + 'that rehearsal, and this release would take it down at its end. Nothing was changed. Fix: let the other release end; '
    + `if none runs, take staging down (STAGING_EXPIRES_AT=<its expires-at> npx ${ownCdk().command} destroy ${stack} --auto-approve), then release again.`);
  return 1;
}
