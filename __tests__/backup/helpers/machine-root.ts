import * as fs from 'fs';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { parse } from 'yaml';

export interface WrittenFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: string;
}

/** cloud-init's `write_files`, decoded as cloud-init decodes them (`encoding: gz+b64`). */
export function decodeWriteFiles(userData: string): WrittenFile[] {
  return (parse(userData).write_files ?? []).map((f: any) => {
    if (f.encoding !== undefined && f.encoding !== 'gz+b64') throw new Error(`${f.path}: encoding ${f.encoding} is not one the tooling uses`);
    const content = f.encoding === 'gz+b64' ? gunzipSync(Buffer.from(f.content, 'base64')).toString('utf8') : f.content;
    return { path: f.path, content, permissions: f.permissions };
  });
}

/** The decoded files by path. */
export function filesByPath(userData: string): Record<string, string> {
  return Object.fromEntries(decodeWriteFiles(userData).map((f) => [f.path, f.content]));
}

/**
 * Writes cloud-init's `write_files` of a rendered user data under `root`, keeping each file's
 * path and permissions: the machine's files as cloud-init would write them, in a directory.
 */
export function writeMachineFiles(userData: string, root: string): WrittenFile[] {
  const files = decodeWriteFiles(userData);
  for (const f of files) {
    const target = path.join(root, f.path);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    fs.writeFileSync(target, f.content);
    fs.chmodSync(target, parseInt(f.permissions, 8));
  }
  return files;
}

/** Appends settings to a shell configuration file: later assignments win when it is sourced. */
export function overrideConf(file: string, settings: Record<string, string | number>): void {
  const lines = Object.entries(settings).map(([k, v]) => `${k}='${String(v).replace(/'/g, `'\\''`)}'`);
  fs.appendFileSync(file, `# test overrides\n${lines.join('\n')}\n`);
}
