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
 * which lacks it), and scp and sftp run the stand-in ssh (-S), where they ran `/usr/bin/ssh`. bash runs it privileged
 * (-p): it reads no BASH_ENV (whose output would come before ssh's, in git's or rsync's stream) and imports no
 * function (one named `exec` would replace the builtin). Without bash (`bash` undefined), or where `real` is a script
 * (the kernel runs its interpreter with the script's path, dropping the argv[0] given, so its ssh runs under its own
 * name), ssh refuses a jump host (noJumpRefusal) rather than offer the account's keys to it. An -F or -S the rehearsal
 * passes itself comes later on the line, and wins; the options before it stay.
 */
function standInScript(client: (typeof WRAPPED_SSH_CLIENTS)[number], real: string, home: string, config: string, sshStandIn: string | undefined, bash: string | undefined): string {
  const script = client === 'ssh' && isScript(real);
  const named = client === 'ssh' && bash !== undefined && !script ? `-a ${shellWord(sshStandIn!)} ` : '';
  const program = client !== 'ssh' && sshStandIn !== undefined ? `-S ${shellWord(sshStandIn)} ` : '';
  const options = `-F ${shellWord(config)} -o IdentityFile=none "$@"`;
  // ssh -G says the settings without connecting: a jump host among them is refused, named.
  const [before, after] = noJumpRefusal('\0', script ? { script: real } : 'no bash').split('\0');
  const noJump = client === 'ssh' && !named
    ? `nl='\n'\nsettings="$nl$(${shellWord(real)} -G ${options} 2>/dev/null)"\ncase "$settings" in\n`
      + `  *"\${nl}proxyjump "*) jump=\${settings#*"\${nl}proxyjump "}; printf '%s%s%s\\n' ${shellWord(before)} "\${jump%%"$nl"*}" ${shellWord(after)} >&2; exit 255 ;;\nesac\n` : '';
  return `#!${named ? `${bash} -p` : '/bin/sh'}\n# ${client} with the rehearsal's SSH configuration, not the runner account's ~/.ssh (see ${config}).\n`
    + sshOptions(home) + noJump + `exec ${named}${shellWord(real)} ${program}${options}\n`;
}

/** Whether `file` is a script (`#!`), which the kernel runs with its interpreter under another argv[0]. */
function isScript(file: string): boolean {
  const head = Buffer.alloc(2);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    // An ssh this account may run but not read (mode 0711) is a program: its interpreter could not read a script either.
    return false;
  }
  try {
    return fs.readSync(fd, head, 0, 2, 0) === 2 && head.toString('latin1') === '#!';
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * What the rehearsal's ssh says of the jump host `jump` (ssh -G's proxyjump value) where it cannot run ssh under its
 * own name (see standInScript): without bash, or where the ssh it runs is the script `script`.
 */
export function noJumpRefusal(jump: string, cause: 'no bash' | { script: string }): string {
  const why = cause === 'no bash'
    ? ['without bash the stand-in cannot run ssh under its own name', 'install bash']
    : [`the ssh first on the rehearsal's PATH, ${cause.script}, is a script, which runs its ssh under a name of its own`, 'put the ssh program itself first on PATH'];
  return `release: the rehearsal's ssh refuses the jump host ${jump} (-J, ProxyJump) on this machine: the jump's ssh would run without the `
    + `rehearsal's options and offer the runner account's ~/.ssh/id_* to it, as ${why[0]}. Fix: ${why[1]}, or name the jump in a ProxyCommand `
    + '(`ProxyCommand ssh -W %h:%p jumphost`, whose ssh is the stand-in).';
}

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

/** Thrown by rehearsalSsh for a HOME it cannot name safely: the step's failure says its fix alone (it is not the disk's). */
export class UnsafeRehearsalHome extends Error {}

/**
 * Why the rehearsal's HOME `home` cannot be named safely, or undefined. ssh_config takes a quoted path, but expands
 * `%` tokens and `${…}` in it; and a jump host's ssh is run by a shell line OpenSSH writes with the stand-in's path and
 * -F unquoted (`$SHELL -c`): a space, a quote or `;` there breaks every jump, or runs a command. Only letters, digits
 * and these are safe in both. The release asks it at its start, of the path the HOME will have (see scratchHomeRefusal).
 */
export function rehearsalHomeUnsafe(home: string): { problem: string; fix: string } | undefined {
  const unsafe = /[^\p{L}\p{N}/._+,:@=-]/u.exec(home);
  if (!unsafe) return undefined;
  return {
    problem: `the rehearsal's HOME ${JSON.stringify(home)}, made in the temporary directory (TMPDIR), holds ${JSON.stringify(unsafe[0])}, which an SSH `
      + 'configuration or the shell line of a jump host\'s ssh cannot name safely.',
    fix: 'Fix: set TMPDIR to a directory whose path holds only letters, digits and / . _ + , : @ = - (TMPDIR=/tmp), or unset it.',
  };
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
  const unsafe = rehearsalHomeUnsafe(home);
  if (unsafe) throw new UnsafeRehearsalHome(`${unsafe.problem} ${unsafe.fix}`);
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
