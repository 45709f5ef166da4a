import { gzipSync } from 'zlib';
import { stringify } from 'yaml';
import { invalidValue, ValidationError } from '../core/validation-message';
import { checkPartShape, compressedReferenceProblem, refuseClashingFiles, snapshotPart } from './private/part-checks';

/** A file that cloud-init writes at first boot. */
export interface CloudInitFile {
  /** Absolute path on the server. */
  readonly path: string;
  /** The file's content, or a function that produces it when the document is rendered (at synth). */
  readonly content: string | (() => string);
  /**
   * Octal permissions.
   * @default '0644'
   */
  readonly permissions?: string;
  /**
   * Owner as `user:group`.
   * @default 'root:root'
   */
  readonly owner?: string;
  /**
   * Store the content gzipped and base64-encoded (cloud-init's `encoding: gz+b64`), to keep large
   * text files within Hetzner's 32 KiB user data limit; cloud-init decodes it at boot. The content
   * must not hold Terraform references: they cannot be resolved inside compressed bytes.
   * @default false
   */
  readonly compress?: boolean;
}

/**
 * A named piece of a machine's cloud-init: packages, files and commands that belong
 * together (for example "backup tooling" or "uptime prober").
 *
 * Parts keep their order; a later part can rely on an earlier one.
 */
export interface CloudInitPart {
  /** A short name, used in comments and error messages. */
  readonly name: string;
  /** Debian packages to install. @default - none */
  readonly packages?: readonly string[];
  /** Files to write. @default - none */
  readonly files?: readonly CloudInitFile[];
  /** Commands to run once, at the end of first boot, in order. @default - none */
  readonly commands?: ReadonlyArray<string | readonly string[]>;
}

/** Hetzner rejects `user_data` above this many bytes. */
export const USER_DATA_LIMIT_BYTES = 32 * 1024;

/**
 * A `#cloud-config` document composed from parts.
 *
 * Composing (rather than one hand-written YAML string) lets later constructs add
 * their tooling to a machine without knowing what else runs on it.
 */
export class CloudInit {
  private readonly entries: CloudInitPart[] = [];

  /**
   * @param where where messages place the document, such as a machine's `production/App.cloudInit`
   */
  constructor(private readonly where: string = 'CloudInit') {}

  /**
   * Adds a part. A second part with the same name, a file another part writes, and a compressed
   * file whose content holds a Terraform reference are errors.
   */
  public addPart(part: CloudInitPart): this {
    checkPartShape(this.where, 'cloudInit', part);
    if (this.entries.some((p) => p.name === part.name)) {
      throw new ValidationError(invalidValue(this.where, 'part.name', part.name, `the document has a part of that name already (${this.partNames.map((n) => `'${n}'`).join(', ')})`, 'give each part its own name'));
    }
    refuseClashingFiles(this.where, this.entries, part);
    (part.files ?? []).forEach((f, i) => {
      // Content produced at synth is checked when it renders.
      const problem = f.compress && typeof f.content === 'string' ? compressedReferenceProblem(this.where, part.name, i, f.content) : undefined;
      if (problem) throw new ValidationError(problem);
    });
    // A copy: what was checked is what renders.
    this.entries.push(snapshotPart(part));
    return this;
  }

  /**
   * The compressed files whose produced content holds a Terraform reference, which `render` refuses:
   * for a validation to report before anything renders.
   * @internal
   */
  public compressedReferenceProblems(): string[] {
    return this.entries.flatMap((part) => (part.files ?? []).map((f, i) => (f.compress
      ? compressedReferenceProblem(this.where, part.name, i, typeof f.content === 'function' ? f.content() : f.content) : undefined)))
      .filter((p): p is string => p !== undefined);
  }

  /** The parts, in order. */
  public get parts(): readonly CloudInitPart[] {
    return [...this.entries];
  }

  /** The names of the parts, in order. */
  public get partNames(): string[] {
    return this.entries.map((p) => p.name);
  }

  /** Whether the document has no part. */
  public get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Renders the document; the same parts always render to the same bytes. */
  public render(): string {
    const packages = unique(this.entries.flatMap((p) => p.packages ?? []));
    const files = this.entries.flatMap((p) => (p.files ?? []).map((f, i) => {
      const content = typeof f.content === 'function' ? f.content() : f.content;
      return {
        path: f.path,
        ...(f.compress ? { encoding: 'gz+b64', content: compressed(content, compressedReferenceProblem(this.where, p.name, i, content)) } : { content }),
        permissions: f.permissions ?? '0644',
        owner: f.owner ?? 'root:root',
      };
    }));
    // An invariant: addPart refused a clash, and keeps a frozen copy of each part.
    const duplicate = files.map((f) => f.path).find((path, i, all) => all.indexOf(path) !== i);
    if (duplicate) {
      throw new Error(`CloudInit: two parts write '${duplicate}'. Fix: let one part own each file.`);
    }
    const commands = this.entries.flatMap((p) => (p.commands ?? []).map((c) => (typeof c === 'string' ? c : [...c])));
    const doc: Record<string, unknown> = {};
    if (packages.length > 0) {
      doc.package_update = true;
      doc.packages = packages;
    }
    if (files.length > 0) doc.write_files = files;
    if (commands.length > 0) doc.runcmd = commands;
    const header = `#cloud-config\n# parts: ${this.partNames.join(', ')}\n`;
    return header + stringify(doc, { lineWidth: 0 });
  }
}

/**
 * Gzip (fixed header, so the same text always gives the same bytes) as base64 in lines of 60
 * characters: cloud-init's base64 decoder skips the line breaks, and no line is long enough to
 * look like a 64-character API token to the boundary's secret scan.
 */
function compressed(content: string, referenceProblem: string | undefined): string {
  if (referenceProblem) throw new ValidationError(referenceProblem);
  return gzipBase64(content);
}

function gzipBase64(content: string): string {
  const gzip = gzipSync(Buffer.from(content, 'utf8'), { level: 9 });
  gzip[9] = 0xff; // the OS byte: "unknown" on every platform
  return `${gzip.toString('base64').replace(/.{1,60}/g, '$&\n')}`;
}

/**
 * A file's content as the document carries it: its text, or for a compressed file the gzip+base64 `render` writes.
 * @internal
 */
export function carriedContent(file: CloudInitFile): string {
  const content = typeof file.content === 'function' ? file.content() : file.content;
  return file.compress ? gzipBase64(content) : content;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
