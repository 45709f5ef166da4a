import * as fs from 'fs';
import * as path from 'path';
import { PACKAGE_NAME } from '../../lib/core/private/package-name';

/**
 * Finds the library's root directory by walking up from `start` to the first
 * package.json named PACKAGE_NAME (the library's root holds `schema/` and `testing/proto/`).
 *
 * The same code runs from source (`testing/provider`), compiled (`dist/testing/provider`),
 * from the transpile cache (`node_modules/.cache/...`) and installed in a team's project
 * (`node_modules/cdktf-sovereign-hetzner/dist/...`); each of them sits below that package.json.
 */
export function packageRoot(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (let depth = 0; depth < 40; depth++) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if (JSON.parse(fs.readFileSync(manifest, 'utf8')).name === PACKAGE_NAME) return dir;
      } catch {
        // An unreadable package.json on the way up is not ours; keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`${start} is not inside the ${PACKAGE_NAME} package (no package.json named ${PACKAGE_NAME} above it)`);
}

/**
 * A file shipped with the package, such as `schema/hcloud-provider-schema.json`. The package ships
 * the provider schema once, as the compiled library reads it (`dist/schema/`), so a file missing at
 * the root is looked for below `dist/`.
 */
export function packageFile(...segments: string[]): string {
  const root = packageRoot();
  const file = path.join(root, ...segments);
  const compiled = path.join(root, 'dist', ...segments);
  return !fs.existsSync(file) && fs.existsSync(compiled) ? compiled : file;
}
