import * as fs from 'fs';
import { gunzipSync } from 'zlib';

// Reading the name of the package a tarball holds (what `npm pack` writes), without unpacking it to disk.

const BLOCK = 512;

/**
 * The `name` in `package/package.json` of a gzipped tarball as `npm pack` writes it, or undefined when the file is
 * not such a tarball (not gzip, no package.json, no name): the caller then leaves the judgement to npm.
 */
export function packedPackageName(tarball: string): string | undefined {
  let archive: Buffer;
  try {
    archive = gunzipSync(fs.readFileSync(tarball));
  } catch {
    return undefined;
  }
  for (let offset = 0; offset + BLOCK <= archive.length;) {
    const header = archive.subarray(offset, offset + BLOCK);
    const name = field(header, 0, 100);
    if (name === '') return undefined; // the end-of-archive blocks
    const prefix = field(header, 345, 155);
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const start = offset + BLOCK;
    if ((prefix ? `${prefix}/${name}` : name) === 'package/package.json') {
      try {
        const pkg = JSON.parse(archive.subarray(start, start + size).toString('utf8'));
        return typeof pkg?.name === 'string' ? pkg.name : undefined;
      } catch {
        return undefined;
      }
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return undefined;
}

/** A NUL-terminated text field of a tar header. */
function field(header: Buffer, at: number, length: number): string {
  const bytes = header.subarray(at, at + length);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? length : end).toString('utf8');
}
