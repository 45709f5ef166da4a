import { openDestinationPort } from '../../boundary/egress-allowlist';
import { Port } from '../../core/port';
import type { IMachine } from '../../hetzner/machine';
import type { BackupTarget } from '../backup-target';

/**
 * Opens the port of `target` out of `machine` for the target alone (an S3 endpoint on 8443), as the plan and the drill
 * declare it: the host allowlist lets only the endpoint through on it, and no rule of the team's is needed (nor warned of,
 * Egress-PortClaimed). A Storage Box's 23 and an endpoint on 443 are opened by the allowlist already.
 */
export function openTargetPort(machine: IMachine, target: BackupTarget): void {
  openDestinationPort(machine, Port.of(target.destination.port), 'S3 endpoint of a backup target (host allowlist narrows it to the endpoint)');
}
