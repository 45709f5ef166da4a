import { Machine } from '../../hetzner/machine';
import { BUNDLE, JOB_METRIC, SETUP } from './paths';
import { JOB_METRIC_SCRIPT, SETUP_SCRIPT } from './scripts';

export const TOOLING_PART = 'sovereign-monitoring tooling';

interface BundledFile {
  readonly mode: string;
  readonly content: () => string;
}

const bundles = new WeakMap<Machine, Map<string, BundledFile>>();

/**
 * Adds a file to the machine's monitoring bundle: one compressed JSON that the setup unpacks at first
 * boot. Many small files cost cloud-init about a hundred bytes each and compress poorly alone; in one
 * stream they take a third of the room, which Hetzner's 32 KiB user data needs. Files with Terraform
 * references (secrets, addresses) cannot be compressed and stay in write_files.
 */
export function addToBundle(machine: Machine, path: string, content: string | (() => string), mode = '0644'): void {
  ensureTooling(machine);
  bundles.get(machine)!.set(path, { mode, content: typeof content === 'string' ? () => content : content });
}

/** Adds the setup script and the bundle to a machine, once; the setup unpacks the bundle before any other part runs. */
export function ensureTooling(machine: Machine): void {
  if (bundles.has(machine)) return;
  bundles.set(machine, new Map([[JOB_METRIC, { mode: '0755', content: () => JOB_METRIC_SCRIPT }]]));
  machine.addCloudInitPart({
    name: TOOLING_PART,
    files: [
      { path: SETUP, content: SETUP_SCRIPT, permissions: '0755', compress: true },
      { path: BUNDLE, content: () => renderBundle(machine), permissions: '0600', compress: true },
    ],
    commands: [[SETUP, 'unpack']],
  });
}

function renderBundle(machine: Machine): string {
  const files = [...bundles.get(machine)!.entries()].map(([path, f]) => [path, { mode: f.mode, content: f.content() }]);
  return `${JSON.stringify(Object.fromEntries(files))}\n`;
}
