import { BundleFile } from '../../hetzner/machine-bundle';
import { IMachine } from '../../hetzner/machine';
import { JOB_METRIC, SETUP } from './paths';
import { JOB_METRIC_SCRIPT, SETUP_SCRIPT } from './scripts';

export const TOOLING_PART = 'sovereign-monitoring tooling';

/** A file of the monitoring; its content may be produced at synth, when the whole model is known. */
export function monitoringFile(path: string, content: string | (() => string), permissions = '0644'): BundleFile {
  return { path, content, permissions, owner: 'root:root' };
}

/**
 * Adds the setup script and the job hook to a machine's bundle, once. The parts that use them name
 * the setup in their commands, so a new setup re-runs them on the next rollout.
 */
export function ensureTooling(machine: IMachine): void {
  if (machine.bundle.partNames.includes(TOOLING_PART)) return;
  machine.addBundlePart({
    name: TOOLING_PART,
    files: [monitoringFile(SETUP, SETUP_SCRIPT, '0755'), monitoringFile(JOB_METRIC, JOB_METRIC_SCRIPT, '0755')],
  });
}
