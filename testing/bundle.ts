import { gunzipSync } from 'zlib';

/** A file of a synthesized machine bundle. */
export interface SynthesizedBundleFile {
  readonly path: string;
  readonly part: string;
  readonly permissions: string;
  readonly owner: string;
  /** The content, when it is known at synth. */
  readonly content?: string;
  /** The Terraform template Terraform renders at deploy (`${…}` are references), for a file with deploy-time inputs. */
  readonly template?: string;
}

/** A part of a synthesized machine bundle. */
export interface SynthesizedBundlePart {
  readonly name: string;
  readonly packages: readonly string[];
  readonly commands: ReadonlyArray<string | readonly string[]>;
  readonly files: readonly SynthesizedBundleFile[];
}

/** What a machine receives on deploy, read back from a synthesized stack. */
export interface SynthesizedBundle {
  /** `sha256:<hex>`, as the plan shows it and the machine records it. */
  readonly version: string;
  readonly machine: string;
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
  for (const resource of Object.values<any>(stackJson?.resource?.terraform_data ?? {})) {
    const provisioners: any[] = resource.provisioner ?? [];
    const file = provisioners.map((p) => p.file).find((f) => f && String(f.destination).endsWith('/bundle.gz.b64'));
    if (!file) continue;
    const document = JSON.parse(gunzipSync(Buffer.from(String(file.content), 'base64')).toString('utf8'));
    if (document.machine !== serverName) continue;
    const parts: SynthesizedBundlePart[] = document.parts.map((p: any) => ({
      name: p.name,
      packages: p.packages,
      commands: p.commands,
      files: p.files.map((f: any) => ({ path: f.path, part: p.name, permissions: f.mode, owner: f.owner, content: f.content, template: f.template })),
    }));
    const files = new Map(parts.flatMap((p) => p.files.map((f) => [f.path, f] as const)));
    return { version: String(resource.triggers_replace.bundle), machine: document.machine, parts, files };
  }
  throw new Error(`no bundle for server ${serverName} in the stack`);
}
