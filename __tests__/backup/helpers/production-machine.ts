import { TerraformStack, TerraformVariable } from 'cdktf';
import { Environment, Location, Machine, ServerType } from '../../../lib';
import { BackupPlanOptions } from '../../../lib/backup/backup-plan';
import { BackupTarget } from '../../../lib/backup/backup-target';
import { Heartbeat } from '../../../lib/backup/heartbeat';
import { StorageBox } from '../../../lib/hetzner/storage-box';
import { ADMIN_CIDRS, ADMIN_KEY, testStack } from '../../setup/stack';

/**
 * A production stack with one machine and a Storage Box sub-account, and the options a BackupPlan of the machine
 * needs (secrets as sensitive variables, the sub-account as its target), for a suite to build the plan it tests.
 */
export function productionMachine(): { stack: TerraformStack; machine: Machine; options: BackupPlanOptions } {
  const { stack } = testStack('production');
  const secret = (name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, location: Location.FSN1, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
  });
  const box = new StorageBox(stack, 'StorageBox', { environment: Environment.PRODUCTION, password: secret('box_password') });
  const account = box.addSubaccount('App', { homeDirectory: 'backups/production/app', password: secret('box_app_password') });
  return {
    stack, machine,
    options: { environment: Environment.PRODUCTION, resticPassword: secret('restic_password'), heartbeat: Heartbeat.healthchecks(secret('heartbeat_url')), targets: [BackupTarget.storageBox(account)] },
  };
}
