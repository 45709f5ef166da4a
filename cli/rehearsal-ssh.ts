import * as fs from 'fs';
import * as path from 'path';
import { shellWord } from './shell-word';

/** The OpenSSH clients that read the user's configuration: each gets a stand-in on the rehearsal's PATH. */
export const WRAPPED_SSH_CLIENTS = ['ssh', 'scp', 'sftp'] as const;

/**
 * The rehearsal's SSH configuration, which its ssh, scp and sftp read (-F) in place of the runner's `~/.ssh/config`
 * and `/etc/ssh/ssh_config`. OpenSSH takes `~` (and `%d`) from the password database, never from HOME, so every path
 * is the scratch HOME's, written out. No default identity file: `~/.ssh/id_*` would be the runner account's, and
 * this HOME starts empty, so a key the rehearsal uses is one it names (-i, or an IdentityFile line it adds below).
 * IdentitiesOnly stays off: the only agent the rehearsal can name is one it started itself (SSH_AUTH_SOCK is unset).
 */
function sshConfig(home: string): string {
  return [
    "# The release rehearsal's SSH configuration: its ssh, scp and sftp read this file instead of the runner's",
    "# ~/.ssh/config (OpenSSH reads ~ from the password database, not HOME). Lines added below apply too.",
    'IdentityFile none',
    `UserKnownHostsFile "${path.join(home, '.ssh', 'known_hosts')}"`,
    '',
  ].join('\n');
}

/** The first executable `name` on `searchPath` (a PATH value), or undefined. */
function onPath(name: string, searchPath: string): string | undefined {
  return searchPath.split(path.delimiter).filter((dir) => path.isAbsolute(dir)).map((dir) => path.join(dir, name)).find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Gives the scratch HOME `home` an SSH configuration of its own (`~/.ssh/config`, see sshConfig) and a directory of
 * stand-ins for ssh, scp and sftp that run the ones found on `searchPath` with it; returns that directory, to be put
 * first on the rehearsal's PATH. Git, rsync and Ansible find ssh on PATH. A client not on `searchPath` gets no
 * stand-in; a `/usr/bin/ssh` named by its path is not covered (the README says so).
 */
export function rehearsalSsh(home: string, searchPath: string | undefined): string {
  // ssh_config takes a quoted path, but expands `%` tokens and `${…}` in it: a HOME whose path holds them cannot be named.
  if (/["\\$%\n]/.test(home)) {
    throw new Error(`${JSON.stringify(home)} holds a character an SSH configuration cannot name (", \\, $, % or a line break)`);
  }
  const sshDir = path.join(home, '.ssh');
  fs.mkdirSync(sshDir, { mode: 0o700 });
  const config = path.join(sshDir, 'config');
  fs.writeFileSync(config, sshConfig(home), { mode: 0o600 });
  const bin = path.join(home, '.rehearsal-bin');
  fs.mkdirSync(bin);
  for (const client of WRAPPED_SSH_CLIENTS) {
    const real = searchPath === undefined ? undefined : onPath(client, searchPath);
    if (real === undefined) continue;
    // An -F the rehearsal passes itself comes later on the line, and wins.
    fs.writeFileSync(path.join(bin, client), `#!/bin/sh\n# ${client} with the rehearsal's SSH configuration, not the runner account's ~/.ssh (see ${config}).\n`
      + `exec ${shellWord(real)} -F ${shellWord(config)} "$@"\n`, { mode: 0o755 });
  }
  return bin;
}
