import { onePort, Port } from '../core/port';
import { fail, requireString } from '../core/runtime-checks';
import { invalidValue } from '../core/validation-message';
import { IMachine } from './machine';
import { declarePrivateIngress, PrivateIngressRule, privateIngressRules } from './private/private-ingress-table';
import { requireMachine } from './private/require-machine';

const checked = new WeakSet<IMachine>();

/**
 * What reaches a machine over its private network. Hetzner's Cloud Firewalls filter the public interfaces only, so
 * every server in the network reached every port of every other one. Every machine in a private network (its bundle
 * and rollout are created with it for this) gets an nftables table (`ip sovereign_private_ingress`,
 * loaded at every boot before the network comes up) that admits, on its private address, only the peers declared
 * here, replies to its own connections, ICMP and DHCP, and drops the rest.
 *
 * The constructs that open a port on the private network declare its peers themselves, so no stack keeps a list:
 * `EnvironmentMonitoring` admits the monitoring machine to the node exporters it scrapes, `PostgresDatabase` its
 * `networkClients`. Declare your own services' peers with `allowTcp`.
 */
export class PrivateIngress {
  /**
   * Lets `from` reach TCP `port` (one port: `Port.of(5432)`, or the number) of `machine` over their private network.
   * Both must be machines in a private network; synth fails otherwise, naming the machine.
   */
  public static allowTcp(machine: IMachine, from: IMachine, port: Port | number, purpose: string): void {
    requireMachine('PrivateIngress.allowTcp', 'machine', machine);
    const at = `${machine.node.path}.privateIngress`;
    requireMachine(at, 'from', from);
    const single = Port.of(onePort(at, port, 'a peer is admitted to'), at).from;
    requireString(at, 'purpose', purpose, "say who needs it, such as 'node exporter, scraped by the monitoring machine'");
    // Written into the table as a comment line: a line break would end the comment.
    if (/[\r\n]/.test(purpose)) fail(at, 'purpose', purpose.replace(/\r/g, '\\r').replace(/\n/g, '\\n'), 'it spans several lines, and it is written into the table as a one-line comment', 'write it on one line');
    if (from === machine) fail(at, 'from', from.node.path, 'a machine reaches itself over loopback, which the table leaves open', 'declare peers that are other machines');
    if (!checked.has(machine)) {
      checked.add(machine);
      machine.node.addValidation({ validate: () => unreachablePeers(machine) });
    }
    declarePrivateIngress(machine, { from, port: single, purpose });
  }

  /** The peers declared for `machine`, in declaration order. */
  public static rulesFor(machine: IMachine): readonly PrivateIngressRule[] {
    return privateIngressRules(machine);
  }
}

/** The declared peers the table cannot admit: a machine or peer outside any private network, or in another one. */
function unreachablePeers(machine: IMachine): string[] {
  return privateIngressRules(machine).flatMap((r) => {
    const why = unreachablePeer(machine, r.from);
    return why === undefined ? [] : [invalidValue(machine, 'privateIngress', `${r.from.node.path} on TCP ${r.port} (${r.purpose})`, why, UNREACHABLE_FIX)];
  });
}

/** What to do about a peer `unreachablePeer` names. */
export const UNREACHABLE_FIX = "attach both machines to the environment's PrivateNetwork (MachineProps.privateNetwork)";

/** Why `from` cannot reach `machine` over a private network (undefined when it can): no network, or another one. */
export function unreachablePeer(machine: IMachine, from: IMachine): string | undefined {
  const subnetOf = (m: IMachine) => {
    const networks = m.server.networkInput;
    return Array.isArray(networks) && networks.length > 0 ? String(networks[0].subnetId) : undefined;
  };
  const own = subnetOf(machine);
  const theirs = subnetOf(from);
  if (own !== undefined && theirs === own) return undefined;
  return own === undefined
    ? `${machine.node.path} is in no private network, so nothing reaches it there`
    : theirs === undefined ? `${from.node.path} is in no private network` : `${from.node.path} is in another private network`;
}
