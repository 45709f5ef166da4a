import { At, requireArray } from '../../core/runtime-checks';
import { invalidValue, ValidationError } from '../../core/validation-message';
import { IMachine } from '../../hetzner/machine';
import { UNREACHABLE_FIX, unreachablePeer } from '../../hetzner/private-ingress';
import { requireMachine } from '../../hetzner/private/require-machine';

/** What to list in `networkClients`. */
export const NETWORK_CLIENTS_FIX = 'list the client Machines, such as [worker]';

/**
 * A database's `networkClients`, checked where they were written (`at`.`prop`, the database's or the stack's):
 * machines, none of them the database's own `machine` (it connects over localhost), each in its private network.
 * Refused before any is declared: PrivateIngress would name the machine's table, which the caller never wrote.
 */
export function checkNetworkClients(at: At, prop: string, machine: IMachine, clients: unknown): IMachine[] {
  const machines = requireArray(at, prop, clients, NETWORK_CLIENTS_FIX, (value, p) => requireMachine(at, p, value));
  machines.forEach((client, i) => {
    if (client === machine) {
      throw new ValidationError(invalidValue(at, `${prop}[${i}]`, client.node.path, "it is the database's own machine, which reaches PostgreSQL over localhost",
        'list only the other machines that connect over the private network'));
    }
    const unreachable = unreachablePeer(machine, client);
    if (unreachable !== undefined) throw new ValidationError(invalidValue(at, `${prop}[${i}]`, client.node.path, unreachable, UNREACHABLE_FIX));
  });
  return machines;
}
