import * as fs from 'fs';
import * as path from 'path';

/** Whether an executable systemd-analyze (the systemd package) is on `searchPath`, a PATH: where a shell would find it. */
export function hasSystemdAnalyze(searchPath: string): boolean {
  return searchPath.split(':').filter(Boolean).some((dir) => {
    try {
      const file = path.join(dir, 'systemd-analyze');
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Writes into `bin` (a directory before `searchPath` on a test machine's PATH) a systemd-analyze that passes every
 * unit, when none is on `searchPath`; returns whether it wrote one. The rollout agent fails a deploy whose unit files
 * systemd-analyze did not verify (not found: 127), as it should on a server; a host without the systemd package (the
 * node:22 image) has none, and every rollout with a unit file failed there. Its units go in unverified.
 */
export function standInSystemdAnalyze(bin: string, searchPath: string): boolean {
  if (hasSystemdAnalyze(searchPath)) return false;
  fs.writeFileSync(path.join(bin, 'systemd-analyze'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return true;
}
