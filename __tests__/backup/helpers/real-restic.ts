import { execFileSync } from 'child_process';
import { PATH_ENV } from './world';

/**
 * The real restic's path, as the scripts find it on a service's PATH: a stand-in put first on PATH runs it by this path
 * (`exec '<path>' "$@"`), not by name, which would find the stand-in again.
 */
export function realRestic(): string {
  return execFileSync('sh', ['-c', 'command -v restic'], { encoding: 'utf8', env: { ...process.env, PATH: PATH_ENV } }).trim();
}
