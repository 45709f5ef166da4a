import { gzipSync } from 'zlib';
import { stringify } from 'yaml';
import { synthesizedBundle } from '../../testing/bundle';

/**
 * What the server named `name` receives in all, as one cloud-config document: its bootstrap user
 * data's files and its bundle's files (static ones as `gz+b64`, decoded raw by the helpers; files
 * with deploy-time inputs as their Terraform template, which the helpers render with test values),
 * the packages, and the commands of every part in order. The suites that lay a machine's files out
 * in a directory read this, so they run exactly what a rollout installs.
 */
export function machinePayload(json: any, name: string): string {
  const bundle = synthesizedBundle(json, name);
  const files = [...bundle.files.values()].map((f) => (f.content !== undefined
    ? { path: f.path, encoding: 'gz+b64', content: gzipSync(Buffer.from(f.content, 'utf8')).toString('base64'), permissions: f.permissions, owner: f.owner }
    : { path: f.path, content: f.template, permissions: f.permissions, owner: f.owner }));
  const doc = {
    packages: [...new Set(bundle.parts.flatMap((p) => p.packages))],
    write_files: files,
    runcmd: bundle.parts.flatMap((p) => p.commands),
  };
  return `#cloud-config\n# bundle ${bundle.version} of ${name}: ${bundle.parts.map((p) => p.name).join(', ')}\n${stringify(doc, { lineWidth: 0 })}`;
}
