import * as fs from 'fs';
import * as path from 'path';
import { BackupWorld, MachineRoot } from './world';

/** The two plan paths of the file-backup suites, under `tmp`, made empty. */
export interface FilePaths {
  readonly uploads: string;
  readonly exports: string;
}

/**
 * Production's database `app` with a few rows (a push needs a dump, a dump needs rows) and the two paths the file
 * suites back up, empty.
 */
export function appWithTwoPaths(world: BackupWorld, tmp: string): FilePaths {
  world.pg.sql('postgres', 'CREATE DATABASE app');
  world.pg.sql('app', "CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 300) g;");
  const paths = { uploads: path.join(tmp, 'srv', 'uploads'), exports: path.join(tmp, 'srv', 'exports') };
  fs.mkdirSync(paths.uploads, { recursive: true });
  fs.mkdirSync(paths.exports, { recursive: true });
  return paths;
}

/** A machine `name` of production's plan backing up `paths` to `repo` on the Storage Box, its key authorized there. */
export function filePathsMachine(world: BackupWorld, name: string, repo: string, paths: FilePaths): MachineRoot {
  const laidOut = world.layOut(name, { storagebox_PORT: world.sftp.port, storagebox_REPO_PATH: repo, PG_DATABASES: 'app' },
    { filePaths: [paths.uploads, paths.exports] });
  world.sftp.authorize(world.generateKey(laidOut.etc));
  return laidOut;
}
