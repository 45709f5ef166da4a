import { gunzipSync } from 'zlib';

/** A file of a synthesized machine bundle. */
export interface SynthesizedBundleFile {
  /** Absolute path on the machine, such as `/etc/systemd/system/sovereign-backup.service`. */
  readonly path: string;
  /** Name of the bundle part that installs the file; its commands run when the file changes. */
  readonly part: string;
  /** Octal mode the file is installed with, such as `0600` (`0644` unless the part set one). */
  readonly permissions: string;
  /** Owner as `user:group` (`root:root` unless the part set one). */
  readonly owner: string;
  /** The content, when it is known at synth. */
  readonly content?: string;
  /** The Terraform template Terraform renders at deploy (`${…}` are references), for a file with deploy-time inputs. */
  readonly template?: string;
}

/** A part of a synthesized machine bundle. */
export interface SynthesizedBundlePart {
  /** The part's name as given to `Machine.addBundlePart`; it appears in the plan and the agent's log. */
  readonly name: string;
  /** Debian packages the agent installs before it checks the staged files; empty when none. */
  readonly packages: readonly string[];
  /**
   * Commands that activate the part, in order: an argv array, or a string run by `sh -c`. The agent runs
   * them on the part's first rollout and again when its files, a file they name, or the commands
   * change; empty when none.
   */
  readonly commands: ReadonlyArray<string | readonly string[]>;
  /** The part's files, in the order the part lists them. */
  readonly files: readonly SynthesizedBundleFile[];
  /** Files the part's programs write on the machine, which the agent removes with the part (`BundlePart.runtimeFiles`); empty when none. */
  readonly runtimeFiles: readonly string[];
}

/** What a machine receives on deploy, read back from a synthesized stack. */
export interface SynthesizedBundle {
  /** `sha256:<hex>`, as the plan shows it and the machine records it. */
  readonly version: string;
  /** Name of the server the bundle is for (its hcloud_server `name`), as the agent logs and records it. */
  readonly machine: string;
  /** The parts in the order they were added, which is the order the agent runs their commands in. */
  readonly parts: readonly SynthesizedBundlePart[];
  /** Every file by path. */
  readonly files: ReadonlyMap<string, SynthesizedBundleFile>;
}

/**
 * The bundle the rollout of server `serverName` carries, decoded from a synthesized stack (its
 * JSON, as `Testing.synth` returns it parsed): for snapshot tests of what a machine runs, and for
 * tests that lay its files out in a directory.
 */
export function synthesizedBundle(stackJson: any, serverName: string): SynthesizedBundle {
  const bundle = synthesizedBundles(stackJson).find((b) => b.machine === serverName);
  if (!bundle) throw new Error(`no bundle for server ${serverName} in the stack`);
  return bundle;
}

/**
 * The bundle document a rollout resource (`terraform_data`) uploads, decoded (gzip, base64, JSON); undefined for a
 * resource that uploads none. Throws for an upload that does not decode. Internal: the harness's one reader of it.
 */
export function bundleDocumentOf(resource: any): any {
  const provisioners: any[] = resource?.provisioner ?? [];
  const file = provisioners.map((p) => p?.file).find((f) => f && String(f.destination).endsWith('/bundle.gz.b64'));
  if (!file) return undefined;
  return JSON.parse(gunzipSync(Buffer.from(String(file.content), 'base64')).toString('utf8'));
}

/** Every machine's bundle in a synthesized stack, in the stack's order. */
export function synthesizedBundles(stackJson: any): SynthesizedBundle[] {
  const bundles: SynthesizedBundle[] = [];
  for (const resource of Object.values<any>(stackJson?.resource?.terraform_data ?? {})) {
    const document = bundleDocumentOf(resource);
    if (document === undefined) continue;
    const parts: SynthesizedBundlePart[] = document.parts.map((p: any) => ({
      name: p.name,
      packages: p.packages,
      commands: p.commands,
      runtimeFiles: p.runtimeFiles ?? [],
      files: p.files.map((f: any) => ({ path: f.path, part: p.name, permissions: f.mode, owner: f.owner, content: f.content, template: f.template })),
    }));
    const files = new Map(parts.flatMap((p) => p.files.map((f) => [f.path, f] as const)));
    bundles.push({ version: String(resource.triggers_replace.bundle), machine: document.machine, parts, files });
  }
  return bundles;
}
