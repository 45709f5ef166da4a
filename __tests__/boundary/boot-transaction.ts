// A machine's bundle as the rollout delivers it, and the boot transaction systemd builds from its units: the units are
// installed under a scratch directory and enabled by the real systemctl, as the parts' commands do, and
// `systemd --test` builds the start-up transaction with systemd's own engine (it runs nothing) and dumps every unit's
// dependencies as systemd resolved them (.requires links, reverse Before=).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { resources } from '../examples/synth-examples';
import { isRoot } from '../setup/real-parts';

const SYSTEMD = '/lib/systemd/systemd';
export const UNITS = '/etc/systemd/system/';
/** Whether systemd's test mode can run here (root, systemd, setpriv). */
export const systemdTestAvailable = isRoot && fs.existsSync(SYSTEMD) && spawnSync('setpriv', ['--version']).status === 0;

/** A machine's bundle as the rollout delivers it (decoded from the synthesized provisioner). */
export interface BundleDocument {
  readonly parts: Array<{ name: string; files: Array<{ path: string; content?: string }>; commands?: Array<string | string[]> }>;
}

/** The bundle of the machine named `machine` in `stack`. */
export function bundleOf(stack: any, machine: string): BundleDocument {
  const bundles = resources(stack, 'terraform_data').flatMap((r: any) => (r.provisioner ?? []).filter((p: any) => String(p.file?.destination).endsWith('bundle.gz.b64')))
    .map((p: any): BundleDocument & { machine: string } => JSON.parse(gunzipSync(Buffer.from(p.file.content, 'base64')).toString('utf8')));
  const found = bundles.find((b) => b.machine === machine);
  if (!found) throw new Error(`no bundle for ${machine}; the stack has ${bundles.map((b) => b.machine).join(', ')}`);
  return found;
}

/** What systemd made of the units: each unit's dependencies by kind, and the jobs of the transaction. */
export interface Transaction {
  deps(unit: string, kind: string): string[];
  field(unit: string, key: string): string | undefined;
  /** The command lines of `unit`'s `kind` (ExecStart, ExecStartPost, ExecReload…), in the order systemd runs them, drop-ins merged. */
  commands(unit: string, kind: string): string[];
  readonly jobs: string[];
  /** What systemd logged while it built the transaction (an ordering cycle would be reported here). */
  readonly log: string;
}

/**
 * Installs the bundle's units under a scratch root, runs each `systemctl enable`/`reenable` of its parts there
 * (offline, `--now` dropped), then asks systemd for the transaction that starts `unit` at boot.
 */
export function bootTransaction(bundle: BundleDocument, unit: string, alsoEnabled: readonly string[] = []): Transaction {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-reboot-'));
  try {
    fs.chmodSync(dir, 0o755);
    for (const file of bundle.parts.flatMap((p) => p.files)) {
      if (!file.path.startsWith(UNITS) || file.content === undefined) continue;
      fs.mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(dir, file.path), file.content, { mode: 0o644 });
    }
    for (const command of bundle.parts.flatMap((p) => p.commands ?? [])) {
      const argv = typeof command === 'string' ? command.split(/\s+/) : command;
      if (argv[0] !== 'systemctl' || !['enable', 'reenable'].includes(argv[1])) continue;
      // Debian's own units (prometheus…) are not under the scratch root: enabling them there fails, and changes nothing here.
      spawnSync('systemctl', [`--root=${dir}`, argv[1], ...argv.slice(2).filter((a) => a !== '--now')], { encoding: 'utf8' });
    }
    // Debian's units the machine has enabled besides the bundle's (the network), linked as `systemctl enable` links them.
    for (const name of alsoEnabled) {
      fs.mkdirSync(path.join(dir, UNITS, 'multi-user.target.wants'), { recursive: true, mode: 0o755 });
      fs.symlinkSync(`/lib/systemd/system/${name}`, path.join(dir, UNITS, 'multi-user.target.wants', name));
    }
    fs.chmodSync(path.join(dir, 'etc'), 0o755);
    // Test mode refuses root; the unit path is the scratch units, then Debian's (systemd's targets, prometheus's units).
    const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', SYSTEMD, '--test', '--system', `--unit=${unit}`, '--no-pager'], {
      encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { PATH: process.env.PATH, SYSTEMD_UNIT_PATH: `${dir}${UNITS}:/lib/systemd/system` },
    });
    if (run.status !== 0) throw new Error(`systemd --test exited ${run.status}: ${run.stderr.slice(-2000)}`);
    const blocks = new Map<string, string>();
    for (const block of run.stdout.split(/^\t-> Unit /m).slice(1)) blocks.set(block.slice(0, block.indexOf(':\n')), block);
    return {
      deps: (name, kind) => [...(blocks.get(name) ?? '').matchAll(new RegExp(`^\\t\\t${kind}: (\\S+) \\(`, 'gm'))].map((m) => m[1]),
      field: (name, key) => new RegExp(`^\\t\\t${key}: (.*)$`, 'm').exec(blocks.get(name) ?? '')?.[1],
      commands: (name, kind) => [...((new RegExp(`^\\t\\t-> ${kind}:\\n((?:\\t\\t\\t.*\\n)*)`, 'm').exec(blocks.get(name) ?? '')?.[1] ?? '')
        .matchAll(/^\t\t\tCommand Line: (.*)$/gm))].map((m) => m[1]),
      jobs: [...run.stdout.matchAll(/^\t\t\tAction: (\S+) -> start$/gm)].map((m) => m[1]),
      log: run.stderr,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

