import { openDestinationPort, requireConstructDestinations } from '../../boundary/egress-allowlist';
import { Port } from '../../core/port';
import type { IMachine } from '../../hetzner/machine';

/** The firewall rule that opens an S3 endpoint's own port. */
export const TARGET_PORT_RULE = 'S3 endpoint of a backup target (host allowlist narrows it to the endpoint)';
/** The firewall rule that opens a ping URL's own port. */
export const HEARTBEAT_PORT_RULE = 'ping host of a backup heartbeat (host allowlist narrows it to the ping host)';

/**
 * Declares `host` (a backup target, a heartbeat's ping host) on its TCP `port` for the egress allowlist of `machine`, and
 * opens that port for it alone (an S3 endpoint or a ping URL on 8443), as the plan and the drill declare their
 * destinations: the host allowlist lets only the declared host through on it, and no rule of the team's is needed (nor
 * warned of, Egress-PortClaimed). A Storage Box's 23 and a host on 443 are opened by the allowlist already.
 * @param rule the description of the firewall rule that opens the port
 */
export function declareBackupDestination(machine: IMachine, destination: { readonly host: string; readonly port: number }, purpose: string, rule: string): void {
  const port = Port.of(destination.port);
  requireConstructDestinations(machine, [destination.host], purpose, port);
  openDestinationPort(machine, port, rule);
}
