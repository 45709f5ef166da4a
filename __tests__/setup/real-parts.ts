import { execFileSync } from 'child_process';
import { terraformBinary } from '../../testing/harness/terraform-cli';

/** Whether the suites run as root, as CI does (runuser, sshd, ip netns and mount need it). */
export const isRoot = process.getuid?.() === 0;

/**
 * The Python the machine scripts run on: their shebangs and the backup scripts name it. Not `python3` on PATH,
 * which may be another Python on a developer machine (a pyenv shim: also 0.3 CPU-s per start instead of 0.01).
 */
export const MACHINE_PYTHON = '/usr/bin/python3';

/** Whether this is a CI run (`CI` set, and not to `false`), where every real part must be there. */
export function runsInCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
}

/**
 * `describe` for a suite that runs a real part (root, a daemon, a Debian package). Where `available` is
 * false, the suite fails in CI, whose machine `bash .ci/run` provisions, so a missing part means a broken
 * machine and not a pass; elsewhere it is skipped with a one-line notice.
 */
export function describeWithRealParts(available: boolean, suite: string, needs: string, env: NodeJS.ProcessEnv = process.env): jest.Describe {
  if (available) return describe;
  if (runsInCi(env)) {
    throw new Error(`${suite} needs ${needs}, and CI must have it: run the suites as root after scripts/system-packages.sh (bash .ci/run does both)`);
  }
  console.warn(`${suite} skipped: it needs ${needs}`);
  return describe.skip;
}

/**
 * `test` for one case of a suite that otherwise runs anywhere, where that case needs a real part (root): as
 * `describeWithRealParts`, it runs in CI (and fails there without the part, since a skip would hide it), and
 * elsewhere it is skipped with a one-line notice.
 */
export function testWithRealParts(available: boolean, name: string, needs: string, env: NodeJS.ProcessEnv = process.env): jest.It {
  if (available || runsInCi(env)) return test;
  console.warn(`"${name}" skipped: it needs ${needs}`);
  return test.skip;
}

/**
 * `test` for a case that needs something of the host's own layout or kernel policy (a writable cgroup hierarchy of a
 * kind, unprivileged user namespaces), which no package provides and `bash .ci/run` cannot install: skipped with a
 * one-line notice wherever it is missing, CI included, since another case covers the same code on other hosts.
 */
export function testWhereHostHas(available: boolean, name: string, needs: string): jest.It {
  if (available) return test;
  console.warn(`"${name}" skipped: it needs ${needs}`);
  return test.skip;
}

/** Whether Terraform runs here (TERRAFORM_BINARY_NAME, else terraform on PATH), for the suites that judge configurations with it. */
export function hasTerraform(): boolean {
  try {
    execFileSync(terraformBinary(), ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
