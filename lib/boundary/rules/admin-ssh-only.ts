import { BoundaryRule } from './rule';
import { coversPort, inboundRules, isFromAnywhere } from './firewall-rules';

export const adminSshOnly: BoundaryRule = {
  id: 'Boundary-AdminSshOnly',
  level: 'error',
  cause: 'A firewall opens SSH (TCP 22, alone or in a range) to the whole internet, however the blocks are written (0.0.0.0/0, 0.0.0.0/1 + 128.0.0.0/1, ::ffff:0:0/96).',
  explanation: 'Administrative access is identity data at work: SSH is open only to the admin networks.',
  enforcedAt: 'synth; the Hetzner Cloud Firewall enforces the admin CIDRs',
  evaluate: ({ resources }) => resources.filter((r) => r.type === 'hcloud_firewall').flatMap((firewall) =>
    inboundRules(firewall).filter((rule) => isFromAnywhere(rule) && coversPort(rule, 22)).map((rule) => ({
      path: firewall.path,
      message: `${firewall.path}.rule: '${rule.protocol} ${rule.port ?? 'any'} from ${rule.sourceIps.join(', ')}' is not allowed: it opens SSH to the whole internet. Fix: allow SSH only from the admin CIDRs (Machine adminCidrs)`,
    }))),
};
