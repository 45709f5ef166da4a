import { createHash } from 'crypto';
import { gzipSync } from 'zlib';
import { Token } from 'cdktf';
import { invalidValue, ValidationError } from '../core/validation-message';
import { checkPartShape, refuseClashingFiles, refuseCommandReferences, snapshotPart } from './private/part-checks';
import { escapeTemplateSequences } from './private/terraform-template';

/** A file of a machine's bundle. */
export interface BundleFile {
  /** Absolute path on the machine. */
  readonly path: string;
  /**
   * The content, or a function that produces it at synth. Content with Terraform references
   * (secrets, addresses) is filled in by Terraform at deploy and never stored in the bundle itself.
   */
  readonly content: string | (() => string);
  /**
   * Octal permissions, as a string of three or four digits. A file whose content holds a sensitive variable must not
   * be readable by every user (synth refuses it): give it `'0600'`, or `'0640'` with an owner whose group needs it.
   * @default '0644'
   */
  readonly permissions?: string;
  /**
   * Owner as `user:group`.
   * @default 'root:root'
   */
  readonly owner?: string;
  /**
   * A command that checks the staged file before anything is switched, such as
   * `['promtool', 'check', 'rules', '{}']`; `{}` stands for the staged file's path. A non-zero exit
   * stops the rollout and leaves the previous version running. Units, shell and Python scripts are
   * checked without it (`systemd-analyze verify`, `sh -n`, a Python parse).
   * @default - only the built-in checks
   */
  readonly check?: readonly string[];
}

/**
 * A named piece of a machine's on-machine tooling: packages, files and the commands that activate
 * them (for example "sovereign-backup jobs"). Parts keep their order, except that the parts that
 * activate first (`activatesFirst`) come before all the others.
 *
 * Commands run on the first rollout of the part and again whenever one of its files, a file a
 * command names, or the commands themselves change, so they must be idempotent
 * (`systemctl enable --now`, `systemctl restart`), never one-time steps. A rollback runs the previous
 * version's commands again against what the newer version's commands left (a schema it migrated), so
 * they must be safe against that state too: refuse a newer schema, never migrate it down. What a command
 * left running in the background (`nohup data-migration &`) is stopped before the part's commands run again,
 * with what it started later, found by the `SOVEREIGN_ROLLOUT_STEP` its environment inherits from the command
 * (what systemd starts for a command through `systemctl` has systemd's environment and is never stopped here).
 * What gets that mark from a command indirectly goes too: windows a `tmux`/`screen` server it started opens later,
 * units systemd starts after it ran `systemctl import-environment` and before the part's commands end (the agent
 * then removes the mark from systemd's environment), `at` jobs it queued.
 */
export interface BundlePart {
  /** A short name, used in the plan, logs and error messages. */
  readonly name: string;
  /** Debian packages to install. @default - none */
  readonly packages?: readonly string[];
  /** Files to install. @default - none */
  readonly files?: readonly BundleFile[];
  /** Commands that activate the part, in order: an argv array, or a string run by `sh -c`. @default - none */
  readonly commands?: ReadonlyArray<string | readonly string[]>;
  /**
   * Activate this part before every other one: its commands run first on every rollout, and on a machine
   * that has never run it (the first rollout of a new server, or the part newly added) the agent installs
   * its packages, switches its files and runs its commands before it installs the other parts' packages.
   * For a part that limits what the others may do, such as the egress allowlist: nothing another part
   * installs or starts runs before it.
   * @default false
   */
  readonly activatesFirst?: boolean;
  /**
   * Files the part's own programs write on the machine (a textfile metric for node exporter): the agent removes them
   * when the part leaves the bundle, and when a rollout that added the part rolls back. A metric left behind kept its
   * last value, and its alert fired for a part that was gone.
   * @default - none
   */
  readonly runtimeFiles?: readonly string[];
}

/** One synth's rendering of a bundle. */
export interface RenderedBundle {
  /** `sha256:<hex>` of the document: what the machine records and the plan shows. */
  readonly version: string;
  /** The document, gzipped and base64-encoded, as the rollout carries it (no Terraform references inside). */
  readonly payload: string;
  /** Bytes of the uncompressed document. */
  readonly bytes: number;
  /** The contents Terraform fills in at deploy, by path, as Terraform templates (`${…}` are references). */
  readonly deployTimeContents: Readonly<Record<string, string>>;
  /** Number of files. */
  readonly fileCount: number;
}

/** A file of a bundle as one synth produced it. */
export interface ProducedBundleFile {
  /** The name of the part that writes it. */
  readonly part: string;
  /** The file as the part declared it. */
  readonly file: BundleFile;
  /** Its content, produced; references stay as tokens. */
  readonly content: string;
}

/** A bundle's files by path on the machine. */
export type BundleFiles = Map<string, ProducedBundleFile>;

/** Turns a string with cdktf tokens into Terraform's template text; supplied by the machine's stack. */
export type TemplateResolver = (text: string) => string;

/**
 * Everything a machine runs besides its operating system: one versioned, hashed document per
 * machine, composed from parts that the patterns (backups, monitoring, egress allowlist, the
 * database) contribute. `MachineRollout` delivers it on every deploy without replacing the server.
 */
export class MachineBundle {
  private readonly parts: BundlePart[] = [];
  private revisionCount = 0;
  /** The revision each `files()` result was produced at: `renderFiles` takes only a current one. */
  private readonly produced = new WeakMap<BundleFiles, number>();

  /**
   * @param machineName the server the bundle is for, recorded in the document
   * @param where where messages place the bundle, such as a machine's `production/App.bundle`
   */
  constructor(private readonly machineName: string, private readonly where: string = `MachineBundle(${machineName})`) {}

  /**
   * Adds a part. A second part with the same name, a file another part writes, and a command that
   * holds a Terraform reference are errors.
   */
  public addPart(part: BundlePart): this {
    checkPartShape(this.where, 'bundle', part);
    if (this.parts.some((p) => p.name === part.name)) {
      throw new ValidationError(invalidValue(this.where, 'part.name', part.name, `the bundle has a part of that name already (${this.partNames.map((n) => `'${n}'`).join(', ')})`, 'give each part its own name'));
    }
    refuseClashingFiles(this.where, this.parts, part);
    refuseCommandReferences(this.where, part);
    // A copy: what was checked is what renders.
    this.parts.push(snapshotPart(part));
    this.revisionCount += 1;
    return this;
  }

  /** Changes with every part added, so a rendering can tell it is stale. */
  public get revision(): number {
    return this.revisionCount;
  }

  /** The names of the parts, in order. */
  public get partNames(): string[] {
    return this.parts.map((p) => p.name);
  }

  /** Whether the bundle has no part (the machine then has no rollout). */
  public get isEmpty(): boolean {
    return this.parts.length === 0;
  }

  /**
   * The files of every part, content produced, by path. Content with references stays as tokens.
   * Each call produces every content function again.
   */
  public files(): BundleFiles {
    const files: BundleFiles = new Map();
    for (const part of this.parts) {
      for (const file of part.files ?? []) {
        // An invariant: addPart refused a clash, and keeps a frozen copy of each part.
        if (files.has(file.path)) {
          throw new Error(`MachineBundle: parts '${files.get(file.path)!.part}' and '${part.name}' both write '${file.path}'. Fix: let one part own each file.`);
        }
        files.set(file.path, { part: part.name, file, content: typeof file.content === 'function' ? file.content() : file.content });
      }
    }
    this.produced.set(files, this.revisionCount);
    return files;
  }

  /**
   * Renders the document. The same parts always give the same bytes and so the same version; a
   * file with references is kept as its template (so editing it changes the version) and its
   * content is left to Terraform.
   */
  public render(resolve: TemplateResolver): RenderedBundle {
    return this.renderFiles(this.files(), resolve);
  }

  /**
   * Renders the document from files that `files()` produced for the bundle's current revision, so
   * that a caller needing both produces each content once.
   * @internal
   */
  public renderFiles(files: BundleFiles, resolve: TemplateResolver): RenderedBundle {
    // An invariant of the library's own callers (MachineRollout), not of user input.
    if (this.produced.get(files) !== this.revisionCount) {
      throw new Error('MachineBundle: renderFiles takes what files() returned since the last part was added. Fix: call files() again.');
    }
    const deployTimeContents: Record<string, string> = {};
    // The agent activates parts in the document's order: the ones that activate first lead.
    const ordered = [...this.parts.filter((p) => p.activatesFirst === true), ...this.parts.filter((p) => p.activatesFirst !== true)];
    const parts = ordered.map((part) => ({
      name: part.name,
      ...(part.activatesFirst === true ? { activatesFirst: true } : {}),
      ...(part.runtimeFiles?.length ? { runtimeFiles: [...part.runtimeFiles] } : {}),
      packages: [...(part.packages ?? [])],
      files: (part.files ?? []).map((f) => {
        const { content } = files.get(f.path)!;
        const entry: Record<string, unknown> = { path: f.path, mode: f.permissions ?? '0644', owner: f.owner ?? 'root:root' };
        if (f.check) entry.check = [...f.check];
        if (Token.isUnresolved(content)) {
          const template = resolve(escapeTemplateSequences(content));
          deployTimeContents[f.path] = template;
          entry.template = template;
        } else {
          entry.content = content;
        }
        return entry;
      }),
      commands: (part.commands ?? []).map((c) => {
        // An invariant: addPart refused a reference, and keeps a frozen copy of each part.
        if (Token.isUnresolved(c)) {
          throw new Error(`MachineBundle: a command of part '${part.name}' holds a Terraform reference, which is known only at deploy. `
            + 'Fix: write the value into a file of the part and let the command read it.');
        }
        return typeof c === 'string' ? c : [...c];
      }),
    }));
    const document = Buffer.from(JSON.stringify({ format: 1, machine: this.machineName, parts }), 'utf8');
    const gzip = gzipSync(document, { level: 9 });
    gzip[9] = 0xff; // the OS byte: the same document gives the same payload on every platform
    return {
      version: `sha256:${createHash('sha256').update(document).digest('hex')}`,
      // Lines of 60: no line is long enough to look like an API token to the boundary's secret scan.
      payload: gzip.toString('base64').replace(/.{1,60}/g, '$&\n'),
      bytes: document.length,
      deployTimeContents,
      fileCount: files.size,
    };
  }
}
