import * as fs from 'fs';
import * as path from 'path';
import { assertStandInPackages } from '../peer-packages';
import { STAND_IN_TOKEN } from './stand-in-names';
import { javascriptEntry } from './transpile-cache';
import { requireString } from '../../lib/core/runtime-checks';

/** The provider the stand-in poses as. */
export const PROVIDER_SOURCE = 'registry.terraform.io/hetznercloud/hcloud';
/** The version the stand-in poses as. */
export const PROVIDER_VERSION = '1.68.0';

export { STAND_IN_TOKEN };

/** Terraform's name for this machine's platform, such as linux_amd64. */
export function terraformPlatform(): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' } as Record<string, string>)[process.arch] ?? process.arch;
  return `${process.platform === 'win32' ? 'windows' : process.platform}_${arch}`;
}

/** The JavaScript file node runs as the provider plugin (compiled, or transpiled from source). */
export function providerEntry(): string {
  assertStandInPackages();
  return javascriptEntry(path.join(__dirname, '..', 'provider', 'main'));
}

/**
 * Writes a filesystem mirror holding the stand-in as hetznercloud/hcloud 1.68.0 (unpacked layout):
 * `<mirror>/registry.terraform.io/hetznercloud/hcloud/1.68.0/<platform>/terraform-provider-hcloud_v1.68.0`,
 * a shell script that execs node on the provider. Returns the mirror directory.
 *
 * Terraform's lock file then records only the script's hash (an `h1:` line), which does not change
 * when the provider's JavaScript does.
 */
export function writeProviderMirror(mirrorDir: string): string {
  const dir = path.join(mirrorDir, PROVIDER_SOURCE, PROVIDER_VERSION, terraformPlatform());
  fs.mkdirSync(dir, { recursive: true });
  const executable = path.join(dir, `terraform-provider-hcloud_v${PROVIDER_VERSION}`);
  const script = `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(providerEntry())} "$@"\n`;
  if (!fs.existsSync(executable) || fs.readFileSync(executable, 'utf8') !== script) {
    const tmp = `${executable}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script, { mode: 0o755 });
    fs.renameSync(tmp, executable);
  }
  return mirrorDir;
}

/**
 * The Terraform CLI configuration that installs hetznercloud/hcloud from the mirror and never
 * asks the registry for it. Select it with TF_CLI_CONFIG_FILE.
 */
export function cliConfig(mirrorDir: string): string {
  return [
    '# Written by cdktf-sovereign-hetzner/testing: hetznercloud/hcloud comes from the local stand-in.',
    'disable_checkpoint = true',
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = ${JSON.stringify(mirrorDir)}`,
    `    include = [${JSON.stringify(PROVIDER_SOURCE)}]`,
    '  }',
    '  direct {',
    `    exclude = [${JSON.stringify(PROVIDER_SOURCE)}]`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * What a `terraform`, `cdktf` or `cdktn` command against the stand-in needs in its environment: the CLI
 * configuration, the stand-in's token, and no shared plugin cache.
 *
 * The stand-in's package is a script naming this project's copy of the provider, so it differs from one project to
 * the next. cdktf and cdktn point Terraform at `~/.terraform.d/plugin-cache` unless CDKTF_DISABLE_PLUGIN_CACHE_ENV is
 * set, and there another project's `terraform init` (or this library's own test suite) replaces the package under a
 * lock file that recorded this one: the next command, even the `terraform output` after a finished apply, fails with
 * "Required plugins are not installed". An empty TF_PLUGIN_CACHE_DIR is no cache, for Terraform and for both CLIs.
 */
export function standInEnvironment(cliConfigFile: string): Record<string, string> {
  return {
    TF_CLI_CONFIG_FILE: cliConfigFile,
    CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1',
    TF_PLUGIN_CACHE_DIR: '',
    HCLOUD_TOKEN: STAND_IN_TOKEN,
  };
}

/** Writes the mirror and the CLI configuration under `dir`; returns where both are, and the environment that uses them. */
export function installStandIn(dir: string): {
  /** The Terraform CLI configuration (`dir`/terraform.tfrc); point TF_CLI_CONFIG_FILE at it. */
  cliConfigFile: string;
  /** The filesystem mirror holding the stand-in (`dir`/mirror), which the configuration names. */
  mirrorDir: string;
  /**
   * The variables to export before `cdktf deploy` (or `terraform`) against the stand-in: TF_CLI_CONFIG_FILE, the
   * stand-in's HCLOUD_TOKEN, and no shared plugin cache (CDKTF_DISABLE_PLUGIN_CACHE_ENV=1, an empty
   * TF_PLUGIN_CACHE_DIR), which another project's stand-in would replace under this one's lock file.
   */
  environment: Record<string, string>;
} {
  requireString('installStandIn', 'dir', dir, "pass a directory of the test's own, such as fs.mkdtempSync(path.join(os.tmpdir(), 'standin-'))");
  const mirrorDir = writeProviderMirror(path.join(dir, 'mirror'));
  const cliConfigFile = path.join(dir, 'terraform.tfrc');
  fs.writeFileSync(cliConfigFile, cliConfig(mirrorDir));
  return { cliConfigFile, mirrorDir, environment: standInEnvironment(cliConfigFile) };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
