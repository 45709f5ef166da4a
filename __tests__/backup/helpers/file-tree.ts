import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Every entry under a directory as a test sees it, one line each: type, mode, owner, size, content digest, link target,
 * mtime (lost+found left out, as the backups leave it out): two trees print the same only when a restore gave back
 * every file exactly.
 */
export function tree(dir: string): string {
  const lines: string[] = [];
  const walk = (at: string, rel: string) => {
    const st = fs.lstatSync(at);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) lines.push(`${rel} link ${mode} ${st.uid}:${st.gid} -> ${fs.readlinkSync(at)}`);
    else if (st.isFile()) {
      lines.push(`${rel} file ${mode} ${st.uid}:${st.gid} ${st.size} ${createHash('sha256').update(fs.readFileSync(at)).digest('hex')} ${Math.floor(st.mtimeMs)}`);
    } else if (st.isDirectory()) {
      lines.push(`${rel} dir ${mode} ${st.uid}:${st.gid}`);
      for (const name of fs.readdirSync(at).sort()) if (name !== 'lost+found') walk(path.join(at, name), `${rel}/${name}`);
    }
  };
  walk(dir, '');
  return lines.join('\n');
}
