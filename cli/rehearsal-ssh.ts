import * as fs from 'fs';
import * as path from 'path';
import { shellWord } from './shell-word';

/** The OpenSSH clients that read the user's configuration: each gets a stand-in on the rehearsal's PATH. */
export const WRAPPED_SSH_CLIENTS = ['ssh', 'scp', 'sftp'] as const;

/**
 * The rehearsal's SSH configuration, which its ssh, scp and sftp read (-F) in place of the runner's `~/.ssh/config`
 * and `/etc/ssh/ssh_config`. OpenSSH takes `~` (and `%d`) from the password database, never from HOME, so every path
 * is the scratch HOME's, written out (a `~` the rehearsal writes here is the runner account's home). No default
 * identity file: `~/.ssh/id_*` would be the runner account's, and this HOME starts empty, so a key the rehearsal uses
 * is one it names (-i, or an IdentityFile line it adds below). The stand-ins say both on the command line as well
 * (sshOptions), since a rehearsal may overwrite this file. IdentitiesOnly stays off: the only agent the rehearsal can
 * name is one it started itself (SSH_AUTH_SOCK is unset).
 */
function sshConfig(home: string): string {
  return [
    "# The release rehearsal's SSH configuration: its ssh, scp and sftp read this file instead of the runner's",
    "# ~/.ssh/config (OpenSSH reads ~ from the password database, not HOME). Lines added below apply too.",
    'IdentityFile none',
    `UserKnownHostsFile "${knownHosts(home)}"`,
    '',
  ].join('\n');
}

/** The rehearsal's known hosts file, in its HOME. */
function knownHosts(home: string): string {
  return path.join(home, '.ssh', 'known_hosts');
}

/**
 * The lines of a stand-in's script that put the rehearsal's identity and known hosts settings on the client's command
 * line, where a rehearsal that overwrites its `~/.ssh/config` (`echo "StrictHostKeyChecking no" > ~/.ssh/config`, or
 * passes -F a file of its own) cannot drop them: without an IdentityFile line, ssh offers the runner account's
 * `~/.ssh/id_*` (production's admin key) and reads and writes its known hosts. `IdentityFile=none` adds to, and never
 * replaces, the keys the rehearsal names (-i, its configuration's IdentityFile lines). The first value of
 * UserKnownHostsFile wins, so the stand-in's is given only where the rehearsal's command line names none itself.
 */
function sshOptions(home: string): string {
  return 'case "$*" in\n'
    + '  *[Uu][Ss][Ee][Rr][Kk][Nn][Oo][Ww][Nn][Hh][Oo][Ss][Tt][Ss][Ff][Ii][Ll][Ee]*) ;;\n'
    + `  *) set -- -o ${shellWord(`UserKnownHostsFile="${knownHosts(home)}"`)} "$@" ;;\n`
    + 'esac\n';
}

/**
 * The stand-in for `client`, which runs `real` with the rehearsal's configuration `config` and no default identity. A
 * jump host's ssh (-J, ProxyJump) gets only -F from the ssh it serves: OpenSSH runs it as that ssh's argv[0] (found on
 * PATH only where argv[0] is a bare name), which was `real`, which then offered the runner account's `~/.ssh/id_*` to the jump
 * host and wrote its known hosts. ssh runs `real` named as the stand-in (`exec -a`, a bash builtin; /bin/sh may be dash,
 * which lacks it), and scp and sftp run the stand-in ssh (-S), where they ran `/usr/bin/ssh`. Without bash (`bash`
 * undefined), ssh refuses a jump host (NO_JUMP_WITHOUT_BASH) rather than offer the account's keys to it. An -F or -S
 * the rehearsal passes itself comes later on the line, and wins; the options before it stay.
 */
function standInScript(client: (typeof WRAPPED_SSH_CLIENTS)[number], real: string, home: string, config: string, sshStandIn: string | undefined, bash: string | undefined): string {
  const named = client === 'ssh' && bash !== undefined ? `-a ${shellWord(sshStandIn!)} ` : '';
  const program = client !== 'ssh' && sshStandIn !== undefined ? `-S ${shellWord(sshStandIn)} ` : '';
  const options = `-F ${shellWord(config)} -o IdentityFile=none "$@"`;
  // ssh -G says the settings without connecting: a jump host among them is refused.
  const noJump = client === 'ssh' && !named
    ? `nl='\n'\ncase "$nl$(${shellWord(real)} -G ${options} 2>/dev/null)" in\n  *"\${nl}proxyjump "*) echo ${shellWord(NO_JUMP_WITHOUT_BASH)} >&2; exit 255 ;;\nesac\n` : '';
  return `#!${named ? bash : '/bin/sh'}\n# ${client} with the rehearsal's SSH configuration, not the runner account's ~/.ssh (see ${config}).\n`
    + sshOptions(home) + noJump + `exec ${named}${shellWord(real)} ${program}${options}\n`;
}

/** What the rehearsal's ssh says of a jump host where there is no bash to cover it (see standInScript). */
export const NO_JUMP_WITHOUT_BASH = "release: the rehearsal's ssh refuses a jump host (-J, ProxyJump) on this machine: its ssh would offer the runner account's "
  + '~/.ssh/id_* to it, and without bash the stand-in cannot give it IdentityFile=none. Fix: install bash, or name the jump in a ProxyCommand '
  + '(`ProxyCommand ssh -W %h:%p jumphost`, whose ssh is the stand-in).';

/** Every executable `name` on `searchPath` (a PATH value), in its order. */
export function allOnPath(name: string, searchPath: string): string[] {
  return searchPath.split(path.delimiter).filter((dir) => path.isAbsolute(dir)).map((dir) => path.join(dir, name)).filter((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/** The first executable `name` on `searchPath` (a PATH value), or undefined. */
export function onPath(name: string, searchPath: string): string | undefined {
  return allOnPath(name, searchPath)[0];
}

/**
 * Gives the scratch HOME `home` an SSH configuration of its own (`~/.ssh/config`, see sshConfig) and a directory of
 * stand-ins for ssh, scp and sftp that run the ones found on `searchPath` with it; returns that directory, to be put
 * first on the rehearsal's PATH. Git, rsync and Ansible find ssh on PATH. A client not on `searchPath` gets no
 * stand-in; one named by GIT_SSH, GIT_SSH_COMMAND or RSYNC_RSH is replaced by it (rehearsalSshProgram); a `/usr/bin/ssh`
 * a script runs by its path reads the configuration written here only where accountSshCover mounts this HOME's
 * `~/.ssh` over the account's, without the stand-ins' command-line options.
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
  const reals = WRAPPED_SSH_CLIENTS.map((client) => [client, searchPath === undefined ? undefined : onPath(client, searchPath)] as const);
  const sshStandIn = reals.some(([client, real]) => client === 'ssh' && real !== undefined) ? path.join(bin, 'ssh') : undefined;
  const bash = onPath('bash', searchPath ?? '');
  for (const [client, real] of reals) {
    if (real === undefined) continue;
    fs.writeFileSync(path.join(bin, client), standInScript(client, real, home, config, sshStandIn, bash), { mode: 0o755 });
  }
  return bin;
}

/** The variables naming the ssh that git and rsync run: GIT_SSH a program, the others a command line starting with one. */
export const SSH_PROGRAM_VARIABLES = { GIT_SSH: 'program', GIT_SSH_COMMAND: 'command', RSYNC_RSH: 'command' } as const;

/**
 * The value of `variable` (one of SSH_PROGRAM_VARIABLES) for a rehearsal whose stand-ins are in `bin`: an ssh named by
 * its absolute path (`/usr/bin/ssh`, which would read the runner account's `~/.ssh`, default identities included) is
 * replaced by the stand-in, and the variable is withheld (undefined) where there is none; any other program (plain
 * `ssh`, found on PATH, or the team's own) stays. The command's first word may be quoted, as sh and rsync read it.
 */
export function rehearsalSshProgram(variable: keyof typeof SSH_PROGRAM_VARIABLES, value: string, bin: string): string | undefined {
  const command = SSH_PROGRAM_VARIABLES[variable] === 'command';
  const first = command ? /^\s*(?:'([^']*)'|"([^"]*)"|([^\s'"]+))(?=\s|$)/.exec(value) : null;
  const program = command ? first && (first[1] ?? first[2] ?? first[3]) : value;
  if (!program || !path.isAbsolute(program) || path.basename(program) !== 'ssh') return value;
  const standIn = path.join(bin, 'ssh');
  if (!fs.existsSync(standIn)) return undefined;
  return command ? shellWord(standIn) + value.slice(first![0].length) : standIn;
}
