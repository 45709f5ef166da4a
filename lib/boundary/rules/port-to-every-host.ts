import { allowlistFor } from '../private/egress-declarations';
import { BoundaryRule, Finding } from './rule';

const ID = 'Boundary-PortToEveryHost';

/**
 * A TCP port the host allowlist opens to every allowlisted host rather than to the host it is for: one opened with
 * `EgressAllowlist.allowTcpPort`, or a single TCP port a rule of the team's opens (`machine.allowOutbound`) on which no
 * destination is declared. A program on the machine reaches every allowlisted host on it, the policy's processors' APIs
 * included: a mail relay's 587 is a model provider's 587 too. It warns, naming the narrow fix; a port every allowlisted
 * host does need is accepted with a suppression, whose reason boundary.md lists.
 */
export const portToEveryHost: BoundaryRule = {
  id: ID,
  level: 'warning',
  cause: 'A TCP port other than 80 and 443 that the egress allowlist opens to every allowlisted host (EgressAllowlist.allowTcpPort, or a single-port outbound rule to every address beyond 23, 80 and 443 with no destination declared on the port), not to the hosts it is for.',
  explanation: 'Each allowlisted host is reached on its own ports: the mirrors, processors and extra hosts on 80 and 443, a declared destination on its own. '
    + 'A port opened for the allowlist as a whole lets every program on the machine reach every allowlisted host on it, the policy\'s processors\' APIs included, '
    + 'which is rarely what a port opened for one relay or store is for.',
  enforcedAt: 'synth (a warning); EgressAllowlist.allowTcpPortTo opens a port to named hosts alone, and a suppression lists a port every host needs in boundary.md (one naming its ports, appliesTo: [\'TCP 587\'], covers those alone; one without covers each such port of the machine, later ones included)',
  targets: "the port, as 'TCP 587'",
  evaluate: ({ resources, constructAt }) => resources.filter((r) => r.type === 'hcloud_server').flatMap((server): Finding[] => {
    const construct = constructAt?.(server.path);
    const allowlist = construct ? allowlistFor(construct) : undefined;
    if (!allowlist) return [];
    const processors = allowlist.policy.processors.flatMap((p) => p.hostnames);
    const among = processors.length > 0 ? `, ${processors.join(', ')} (the policy's processors) among them` : '';
    return allowlist.sharedTcpPorts().map((shared): Finding => {
      // The two messages share their opening, what opened the port, and their close, how to accept it: only the middle differs.
      const opened = `${shared.byAllowTcpPort ? 'opened with EgressAllowlist.allowTcpPort' : 'opened by a rule of your own'}: ${shared.rules.map((d) => `'${d}'`).join(', ')}`;
      const message = (why: string, fix: string) => `${allowlist.path}.egress: 'TCP ${shared.port}' (${opened}) reaches every allowlisted host${among}, not only the host it is for: `
        + `${why} Fix: ${fix}; if every allowlisted host does need TCP ${shared.port}, accept it with the reason, BoundarySuppressions.add(machine, [{ id: '${ID}', reason: '…', appliesTo: ['TCP ${shared.port}'] }]), which boundary.md lists`;
      const allowTcpPortTo = `EgressAllowlist.allowTcpPortTo(machine, Port.of(${shared.port}), ['<host>'], '<what the host is and receives>')`;
      // 0.1's way to a ping URL's own port (allowTcpPort), kept beside the heartbeat's declared port: the call is what may go.
      const [why, fix] = shared.declaredByConstructs.length > 0
        ? [`${shared.declaredByConstructs.join('; ')} is declared on the port by the library, which opens it for that host alone without the call.`,
          `remove the allowTcpPort call; if another host needs TCP ${shared.port}, open it to that host, ${allowTcpPortTo}`]
        : ['no destination is declared on the port, so the host allowlist lets every program on the machine reach each of them on it.',
          `open the port to the hosts that need it, ${allowTcpPortTo}, in place of ${shared.byAllowTcpPort ? 'the allowTcpPort call' : 'the rule'}`];
      return { path: server.path, message: message(why, fix), target: `TCP ${shared.port}` };
    });
  }),
};
