import * as fs from 'fs';
import * as path from 'path';

/** The directory of this package's package.json: the clone, or `node_modules/cdktf-sovereign-hetzner` in a team's repo. */
export function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

/** This package's package.json, as far as the CLI reads it. */
export type OwnPackage = Readonly<{ name: string; version: string; peerDependencies: Record<string, string>; devDependencies: Record<string, string>; allowScripts?: Record<string, boolean> }>;

let own: OwnPackage | undefined;

/** This package's package.json, read once: init asks for it about eight times. */
export function ownPackage(): OwnPackage {
  own ??= JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as OwnPackage;
  return own;
}

/**
 * One of this package's docs as the reader can open it from where the CLI runs: `docs/testing.md` in a
 * clone, `node_modules/cdktf-sovereign-hetzner/docs/testing.md` in a team's repo (where a bare
 * `docs/testing.md` names nothing).
 */
export function docPath(name: string, cwd: string = process.cwd()): string {
  const file = path.join(packageRoot(), 'docs', name);
  const relative = path.relative(cwd, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
