import * as fs from 'fs';
import { repositoryCipher } from './restic-key';

/** A blob of a pack, as its header lists it. */
export interface PackBlob {
  /** 0 data, 1 tree; 2 and 3 the same, compressed (repository format 2). */
  readonly type: number;
  readonly id: string;
  /** Where its sealed bytes start in the pack, and how many there are. */
  readonly offset: number;
  readonly length: number;
}

/** The blobs a pack file holds, from its header (sealed, at its end, its length in the last 4 bytes). */
export function packBlobs(pack: string, repository: string, password: string): PackBlob[] {
  const bytes = fs.readFileSync(pack);
  const headerLength = bytes.readUInt32LE(bytes.length - 4);
  const header = repositoryCipher(repository, password).open(bytes.subarray(bytes.length - 4 - headerLength, bytes.length - 4));
  const blobs: PackBlob[] = [];
  for (let at = 0, offset = 0; at < header.length;) {
    const type = header[at];
    const length = header.readUInt32LE(at + 1);
    const idAt = at + (type >= 2 ? 9 : 5);
    blobs.push({ type, id: header.subarray(idAt, idAt + 32).toString('hex'), offset, length });
    offset += length;
    at = idAt + 32;
  }
  return blobs;
}

/**
 * Rewrites a data blob of a pack in place: the first byte of its content flipped, sealed again with the repository's
 * own key, its length and place unchanged. Every read of it succeeds (its MAC is valid), and what it gives no longer
 * hashes to its ID: what a writer holding the key could leave (bit rot fails the MAC instead). A compressed blob (format
 * 2) is flipped inside its zstd frame's first block, which must be stored raw (content zstd cannot shrink: random bytes).
 */
export function rewriteDataBlob(pack: string, blob: PackBlob, repository: string, password: string): void {
  const cipher = repositoryCipher(repository, password);
  const bytes = fs.readFileSync(pack);
  const plaintext = cipher.open(bytes.subarray(blob.offset, blob.offset + blob.length));
  plaintext[contentStart(blob, plaintext)] ^= 0xff;
  cipher.seal(plaintext).copy(bytes, blob.offset);
  fs.writeFileSync(pack, bytes);
}

/** Where a data blob's first content byte is in its plaintext: at once, or past a zstd frame's headers (RFC 8878). */
function contentStart(blob: PackBlob, plaintext: Buffer): number {
  if (blob.type === 0) return 0;
  if (blob.type !== 2 || plaintext.readUInt32LE(0) !== 0xfd2fb528) throw new Error(`blob ${blob.id} is not a data blob (type ${blob.type})`);
  const descriptor = plaintext[4];
  const singleSegment = (descriptor >> 5) & 1;
  const frameHeader = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3] + [singleSegment, 2, 4, 8][descriptor >> 6];
  const block = plaintext.readUIntLE(frameHeader, 3);
  if (((block >> 1) & 3) !== 0) throw new Error(`the first zstd block of blob ${blob.id} is not stored raw`);
  return frameHeader + 3;
}
