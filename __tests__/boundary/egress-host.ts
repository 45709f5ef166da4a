// Test helpers for the egress allowlist's on-machine part: read the part from the construct, install
// its files under a scratch root, and run its boot path and refresh for real inside a private network
// namespace (so nft never touches the host's ruleset and no packet leaves the machine).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EgressAllowlist, EgressAllowlistOptions, Machine } from '../../lib';

/** A part's file as the machine gets it (the `CloudInitFile` / `BundleFile` shape). */
interface PartFile {
  readonly path: string;
  readonly content: string | (() => string);
  readonly permissions?: string;
}

/** A part as `addCloudInitPart` / `addBundlePart` receive it. */
interface Part {
  readonly name: string;
  readonly packages?: readonly string[];
  readonly files?: readonly PartFile[];
  readonly runtimeFiles?: readonly string[];
  readonly commands?: ReadonlyArray<string | readonly string[]>;
}

/** The egress allowlist's part on a machine; file contents are produced on each read (at "synth"). */
export class EgressPart {
  constructor(private readonly part: Part) {}

  public get name(): string {
    return this.part.name;
  }

  public get packages(): readonly string[] {
    return this.part.packages ?? [];
  }

  /** The files the part's programs write, which go when the part does. */
  public get runtimeFiles(): readonly string[] {
    return this.part.runtimeFiles ?? [];
  }

  /** The commands, as shell text. */
  public get commands(): string[] {
    return (this.part.commands ?? []).map((c) => (typeof c === 'string' ? c : c.join(' ')));
  }

  /** Every file, content produced. */
  public get files(): Array<{ path: string; content: string; permissions: string }> {
    return (this.part.files ?? []).map((f) => ({
      path: f.path,
      content: typeof f.content === 'function' ? f.content() : f.content,
      permissions: f.permissions ?? '0644',
    }));
  }

  /** The content of the file at `filePath`. */
  public file(filePath: string): string {
    const found = this.files.find((f) => f.path === filePath);
    if (!found) throw new Error(`the part '${this.name}' writes no ${filePath}; it writes ${this.files.map((f) => f.path).join(', ')}`);
    return found.content;
  }

  /** The systemd unit `/etc/systemd/system/<name>` of this part. */
  public unit(name: string): Unit {
    return new Unit(name, this.file(`/etc/systemd/system/${name}`));
  }

  /** Whether the part ships the systemd unit `name`. */
  public hasUnit(name: string): boolean {
    return this.files.some((f) => f.path === `/etc/systemd/system/${name}`);
  }
}

/** The methods through which a construct hands a part to a machine (the bundle, or first-boot cloud-init). */
const ADD_PART_METHODS = ['addBundlePart', 'addCloudInitPart'];

/**
 * Applies the egress allowlist to `machine` and returns the part it hands the machine, captured at
 * the machine's own method (`addBundlePart` or `addCloudInitPart`, whichever the allowlist calls),
 * which still runs: the part is stored on the machine as usual.
 */
export function applyEgressAllowlist(machine: Machine, options: EgressAllowlistOptions): EgressPart {
  const target = machine as unknown as Record<string, unknown>;
  const captured: Part[] = [];
  const wrapped: string[] = [];
  for (const method of ADD_PART_METHODS) {
    const original = target[method];
    if (typeof original !== 'function') continue;
    target[method] = (part: Part) => {
      if (!captured.includes(part)) captured.push(part);
      return (original as (p: Part) => unknown).call(machine, part);
    };
    wrapped.push(method);
  }
  try {
    EgressAllowlist.apply(machine, options);
  } finally {
    for (const method of wrapped) delete target[method]; // the prototype's method again
  }
  if (captured.length !== 1) {
    throw new Error(`EgressAllowlist.apply handed the machine ${captured.length} parts through ${wrapped.join(' / ')}; expected one`);
  }
  const stored = ['bundle', 'cloudInit'].some((holder) => {
    const names = (target[holder] as { partNames?: unknown } | undefined)?.partNames;
    return Array.isArray(names) && names.includes(captured[0].name);
  });
  if (!stored) throw new Error(`the part '${captured[0].name}' is stored neither in machine.bundle nor in machine.cloudInit`);
  return new EgressPart(captured[0]);
}

/** A systemd unit file, parsed just enough for the tests. */
export class Unit {
  constructor(public readonly name: string, public readonly content: string) {}

  /** Every value of `key` in `section` (`Unit`, `Service`, `Install`…), in order; space-separated lists split. */
  public values(section: string, key: string): string[] {
    let current = '';
    const values: string[] = [];
    for (const raw of this.content.split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      const header = /^\[(.+)\]$/.exec(line);
      if (header) {
        current = header[1];
        continue;
      }
      const eq = line.indexOf('=');
      if (current === section && eq > 0 && line.slice(0, eq).trim() === key) values.push(line.slice(eq + 1).trim());
    }
    return values;
  }

  /** The whitespace-separated items of every `key` in `section` (for Wants=, After=, …). */
  public list(section: string, key: string): string[] {
    return this.values(section, key).flatMap((v) => v.split(/\s+/).filter((s) => s !== ''));
  }
}

/** Debian's /etc/nftables.conf as its nftables package ships it: it flushes the whole ruleset first. */
export const DEBIAN_NFTABLES_CONF = '#!/usr/sbin/nft -f\n\nflush ruleset\n\ntable inet filter {\n  chain input {\n    type filter hook input priority filter;\n  }\n}\n';

/**
 * Debian's nftables.service, its commands as its package ships them (egress-reboot-order.test.ts compares them with the
 * installed unit, as systemd reads it).
 */
export const DEBIAN_NFTABLES_SERVICE = '[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\nExecReload=/usr/sbin/nft -f /etc/nftables.conf\nExecStop=/usr/sbin/nft flush ruleset\n';

/**
 * What Debian's nftables.service runs with a table's drop-in (`dropIn`, a unit file's text; '' for none, as before there
 * was one) merged as systemd merges it (an empty assignment drops the lines before it), `conf` standing for
 * /etc/nftables.conf: `systemctl restart nftables` runs ExecStop, ExecStart, then ExecStartPost; `systemctl reload
 * nftables` ExecReload; `systemctl stop nftables` ExecStop.
 */
export function nftablesService(dropIn: string, conf: string): { restart: string[]; reload: string[]; stop: string[] } {
  const unit = new Unit('nftables.service', `${DEBIAN_NFTABLES_SERVICE}${dropIn}`);
  const merged = (key: string) => unit.values('Service', key).reduce<string[]>((lines, v) => (v === '' ? [] : [...lines, v.split('/etc/nftables.conf').join(conf)]), []);
  return {
    restart: [...merged('ExecStop'), ...merged('ExecStart'), ...merged('ExecStartPost')],
    reload: merged('ExecReload'),
    stop: merged('ExecStop'),
  };
}

/**
 * A check's `SOVEREIGN_SYSTEMCTL`, written in `dir`: a `systemctl show` that says nftables.service is not installed, so
 * that the check records nothing of it. Without it the check asks the real systemctl wherever systemd runs (a
 * developer's machine, a VM), and what that says about the machine's own nftables.service is no part of the test.
 */
export function noNftablesService(dir: string): string {
  const stub = path.join(dir, 'systemctl-no-nftables');
  fs.writeFileSync(stub, '#!/bin/sh\necho LoadState=not-found\n', { mode: 0o755 });
  return stub;
}

/**
 * What systemd runs, in order, when it starts `unitName`: its ExecStart lines, then those of each unit
 * of the part that it pulls in with Wants= and that is ordered after it (as systemd would order them).
 * Units outside the part (network-pre.target…) are systemd's own and run nothing here.
 */
export function startPath(part: EgressPart, unitName: string): Array<{ unit: string; commands: string[] }> {
  const unit = part.unit(unitName);
  const pulled = unit.list('Unit', 'Wants')
    .filter((name) => part.hasUnit(name))
    .map((name) => part.unit(name))
    .filter((u) => u.list('Unit', 'After').includes(unitName));
  return [unit, ...pulled].map((u) => ({ unit: u.name, commands: u.values('Service', 'ExecStart') }));
}

/** The result of one step run inside the namespace. */
export interface StepResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A scratch "machine": the part's files installed under a private root directory, a stand-in `dig`
 * that answers from a table (no DNS traffic), and the refresh script's path overrides
 * (`EGRESS_*_FILE`/`_DIR`, read from the script itself) pointed into the root.
 */
export class ScratchHost {
  public readonly root: string;
  private readonly bin: string;
  private readonly stepsDir: string;

  constructor(private readonly part: EgressPart, answers: Record<string, readonly string[]>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-host-'));
    this.root = path.join(dir, 'root');
    this.bin = path.join(dir, 'bin');
    this.stepsDir = path.join(dir, 'steps');
    for (const d of [this.root, this.bin, this.stepsDir]) fs.mkdirSync(d, { recursive: true });
    for (const f of part.files) {
      const target = this.at(f.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, f.content, { mode: parseInt(f.permissions, 8) });
    }
    const cases = Object.entries(answers)
      .map(([query, lines]) => `"${query}") printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} ;;`)
      .join('\n');
    fs.writeFileSync(path.join(this.bin, 'dig'), `#!/bin/sh\n# stand-in: dig +short <type> <name>\ncase "$2 $3" in\n${cases}\n*) ;;\nesac\n`, { mode: 0o755 });
  }

  /** Where `machinePath` lives in the scratch root. */
  public at(machinePath: string): string {
    return path.join(this.root, machinePath);
  }

  /** The environment the steps run with: the stand-in dig first on PATH, the script's path overrides. */
  public get env(): Record<string, string> {
    // Every script of the part: the refresh's paths, the check's path to the refresh, nftables.service's loader's paths.
    const scripts = this.part.files.filter((f) => f.path.startsWith('/usr/local/sbin/')).map((f) => f.content).join('\n');
    const overrides: Record<string, string> = {};
    for (const m of scripts.matchAll(/\$\{((?:EGRESS|SOVEREIGN)_[A-Z_]+):-(\/[^}]*)\}/g)) overrides[m[1]] = this.at(m[2]);
    // The check's systemctl: the real one, where systemd runs, would answer for this machine's own nftables.service.
    return { PATH: `${this.bin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, SOVEREIGN_SYSTEMCTL: noNftablesService(this.bin), ...overrides };
  }

  /** A command of a unit or of the part, with every path of the part's files moved into the scratch root. */
  public localize(command: string): string {
    const paths = this.part.files.map((f) => f.path).sort((a, b) => b.length - a.length);
    return paths.reduce((cmd, p) => cmd.split(p).join(this.at(p)), command);
  }

  /**
   * A shell script that does what systemd does when it starts `unitName` (see `startPath`): each unit's
   * ExecStart lines in order, a unit stopping at its first failure (unless the line has systemd's `-`
   * prefix); the script exits with the first failing unit's status.
   */
  public start(unitName: string): string {
    const lines = ['rc=0'];
    for (const { unit, commands } of startPath(this.part, unitName)) {
      if (commands.length === 0) throw new Error(`${unit} has no ExecStart`);
      const body = commands.map((c) => {
        const ignoreFailure = c.startsWith('-');
        const command = ignoreFailure ? c.slice(1) : c;
        if (/^[@+!:]/.test(command)) throw new Error(`${unit}: ExecStart prefix of '${c}' is not simulated`);
        if (/[;&|<>`$'"\\]/.test(command)) throw new Error(`${unit}: '${c}' relies on a shell, which systemd does not use`);
        return `    ${this.localize(command)}${ignoreFailure ? ' || true' : ''}`;
      });
      lines.push(`# ${unit}`, '(', '    set -e', ...body, ')', 'status=$?', '[ "$rc" -ne 0 ] || rc=$status');
    }
    lines.push('exit "$rc"');
    return lines.join('\n');
  }

  /**
   * Runs `steps` (shell scripts) one after another in one fresh network namespace: nftables state
   * carries over from step to step, as on one machine, and is gone when the namespace ends.
   */
  public inNetworkNamespace(steps: readonly string[]): StepResult[] {
    const run = steps.map((script, i) => {
      const file = path.join(this.stepsDir, `${i}`);
      fs.writeFileSync(`${file}.sh`, `${script}\n`);
      return `sh ${file}.sh >${file}.out 2>${file}.err; echo $? >${file}.rc`;
    });
    const result = spawnSync('unshare', ['-n', 'sh', '-c', run.join('\n')], { encoding: 'utf8', env: { ...process.env, ...this.env } });
    if (result.status !== 0) throw new Error(`unshare -n failed (${result.status}): ${result.stderr}`);
    return steps.map((_, i) => {
      const file = path.join(this.stepsDir, `${i}`);
      const read = (ext: string) => fs.readFileSync(`${file}.${ext}`, 'utf8');
      return { status: Number(read('rc').trim()), stdout: read('out'), stderr: read('err') };
    });
  }

  /**
   * The part's systemd units with their paths moved into the scratch root (see `localize`), written side by side in
   * one directory, their drop-ins (`nftables.service.d/50-….conf`) beside them, as `systemd-analyze verify` wants
   * them; returns the units' paths. A drop-in for a unit the part does not ship (Debian's nftables.service) is
   * verified with the unit installed on this machine, when there is one.
   */
  public localizedUnits(): string[] {
    const dir = path.join(path.dirname(this.root), 'units');
    const units = new Set<string>();
    for (const f of this.part.files.filter((file) => file.path.startsWith('/etc/systemd/system/'))) {
      const relative = path.relative('/etc/systemd/system', f.path);
      const file = path.join(dir, relative);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, this.localize(f.content));
      const droppedInto = /^([^/]+)\.d\/[^/]+\.conf$/.exec(relative)?.[1];
      if (!droppedInto) units.add(file);
      else if (!this.part.hasUnit(droppedInto)) {
        const installed = ['/lib/systemd/system', '/usr/lib/systemd/system'].map((d) => path.join(d, droppedInto)).find((u) => fs.existsSync(u));
        if (installed) {
          fs.copyFileSync(installed, path.join(dir, droppedInto));
          units.add(path.join(dir, droppedInto));
        }
      }
    }
    return [...units];
  }

  /** The samples of `textfile` (the refresh's `sovereign_egress.prom`) in the textfile directory, by metric name. */
  public metrics(textfile = 'sovereign_egress.prom'): Record<string, number> {
    const file = path.join(this.env.EGRESS_TEXTFILE_DIR, textfile);
    const samples: Record<string, number> = {};
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*) (\S+)$/.exec(line);
      if (m) samples[m[1]] = Number(m[2]);
    }
    return samples;
  }

  /** Removes the scratch directory. */
  public dispose(): void {
    fs.rmSync(path.dirname(this.root), { recursive: true, force: true });
  }
}

/** The addresses in a set of `nft list table` output, sorted; [] when the set has no elements. */
/** The addresses of an allowlist set (`allowed_v4`, `allowed_v6`), whose elements are `address . port`: each once, sorted. */
export function setAddresses(listing: string, set: string): string[] {
  return [...new Set(setElements(listing, set).map((e) => e.split(' . ')[0]))].sort();
}

export function setElements(listing: string, set: string): string[] {
  const block = new RegExp(`set ${set} \\{([\\s\\S]*?)\\n\\s*\\}`).exec(listing);
  if (!block) throw new Error(`no set ${set} in:\n${listing}`);
  const elements = /elements = \{([^}]*)\}/.exec(block[1]);
  return elements ? elements[1].split(',').map((e) => e.trim()).filter((e) => e !== '').sort() : [];
}
