import { IConstruct } from 'constructs';
import { TerraformStack, Token } from 'cdktf';
import { DataClass } from '../core/data-class';
import { resolveTemplate } from '../hetzner/private/terraform-template';
import { BoundaryPolicy } from './boundary-policy';
import { DataFlow } from './data-flow';
import { HETZNER_RESOLVERS } from './egress-allowlist';
import { allowlistFor } from './private/egress-declarations';
import { DNS_AND_NTP_NARROWED, EGRESS_NOT_NARROWED } from './private/egress-scope';
import { BOUNDARY_RULES } from './rules';
import { cloudHostOf, stateBackendsOf } from './rules/eu-state-backend';
import { DATA_HOLDING_TYPES, describeHeld, heldData, resourcesOf } from './rules/rule';
import { BoundarySuppressions } from './suppressions';

/** One item of the operating model's "good in the first 90 days" list, evaluated. */
export interface ChecklistItem {
  /** The checklist item, as the operating model words it. */
  readonly item: string;
  /** Whether the app meets it, computed from the same rules the checks run. */
  readonly met: boolean;
  /** What in the app shows it, or what is missing. */
  readonly evidence: string;
}

export interface BoundaryDocumentProps {
  /** Whose boundary it is, such as the product name. */
  readonly title: string;
  readonly policy: BoundaryPolicy;
  /** The stacks the boundary covers. */
  readonly stacks: readonly TerraformStack[];
  /**
   * The 90-day checklist, evaluated by the caller that knows the whole product.
   * @default - no checklist section
   */
  readonly checklist?: readonly ChecklistItem[];
  /**
   * Copies of the data kept outside the control plane, encrypted on the machine before they leave (a backup plan's
   * offsite bucket): the classes each holds and where it goes, such as `S3 bucket at Scaleway (FR)`.
   * @default - none
   */
  readonly encryptedCopies?: ReadonlyArray<{ readonly dataClasses: readonly DataClass[]; readonly to: string }>;
}

// What only the team's code or contracts can guarantee: listed so nobody mistakes it for enforced.
const DECLARED_ONLY = [
  'That data sent as "pseudonymized" really is pseudonymized: the library checks the declared flow against the policy; the scrubbing itself is application code.',
  'What a processor does with data it receives (retention, training, sub-processors): that is the data processing agreement.',
  'Who a processor is: its legal seat and hostnames are what the team declares. Synth checks the seat is in the EU, not that the hostnames belong to that company or answer from the EU; the Processors table shows both, to be checked against the contract.',
  'Traffic on the private network: Hetzner Cloud Firewalls do not filter it. Inbound, each machine of the network that has a bundle narrows it itself: its private address admits only the peers the constructs declared (PrivateIngress: the monitoring machine to node exporter, a database\'s networkClients to PostgreSQL), replies to its own connections, ICMP and DHCP, from an nftables table loaded at every boot before the network comes up; a server built without the library (no bundle) has no such table, and root on a machine can remove it. Outbound, the host allowlist leaves private addresses open: what a sensitive machine sends to another machine of the network is limited only by that machine\'s own egress, and one holding only public data, or one acting as a gateway (a route of the network), can pass it on unchecked.',
  'DNS tunnelling: DNS (53) reaches only the resolvers the machine is configured with and NTP (123/udp) only its time servers, but a recursive resolver looks up any name it is asked for. A program on the machine can encode data in the names it queries, under a domain whose name server its receiver runs, and the resolver carries them there: slowly (a name holds at most 253 characters), but unlimited in time and indistinguishable from lookups to the host allowlist. The resolvers are read on the machine (resolv.conf, systemd-resolved), so whoever may change those files (root) chooses them.',
  'What runs as root on a machine (a bundle part\'s commands, the application if it has root rights, an admin over SSH) can change or remove the host allowlist; it is loaded again at each rollout and boot, and when the table is missing, and its presence is a metric, but nothing watches it in between.',
  'That an extra host declared public-only (EgressHost.publicOnly) receives nothing beyond public data: synth refuses a declared processor\'s API and known model providers\' as extra hosts and publishes each other one with its reason below; what the machine sends it is application code.',
  'That a probed host receives only probes: an uptime check sends none of the machine\'s data, but the host table cannot tell its connection from any other, so each probed host is open to every program on the prober on the narrowed TCP ports. A probe of a processor the policy names needs no data flow (the allowlist opens that processor anyway); one of a model provider the policy does not name is refused; every other probed host is listed below with its check.',
  'That a machine declared to hold only public or pseudonymized data holds and passes on nothing more: no host allowlist narrows its egress, and the private network carries to it whatever the other machines send, so a proxy or gateway on it (a model proxy in front of a US provider) forwards what it gets unjudged. Synth refuses such a machine whose user data, bundle files or declared destinations write out a model provider\'s API host the policy does not name (Boundary-ProcessorAllowed); it cannot see a provider reached through its SDK\'s default host (no hostname written, as in most SDK setups), by an address, by a name of the team\'s pointing at it, by a name only known at deploy or read on the machine, or through a service that is not a model API. A processor the policy names passes there whatever classes the policy lets it receive (a pseudonymized machine naming one the policy allows only public data to passes), as an allowlisted machine\'s host table lets every processor the policy names through: what goes to it is judged by the data flows declared. Declare a machine that relays other machines\' data with their classes: it then gets the allowlist.',
  'A hostname on an allowlist is as trustworthy as its DNS: a name that resolves to any address the asker chooses (a wildcard DNS service, a domain the team controls) opens that address. Every allowlisted hostname is listed below so it can be judged.',
];

/**
 * The published data boundary: classes and where they live, what may leave to whom and in
 * what form, where each rule is enforced, the suppressions with their reasons, the AI Act
 * role, and the 90-day checklist. Markdown, generated from the construct tree.
 */
export function boundaryDocument(props: BoundaryDocumentProps): string {
  const { policy } = props;
  const lines: string[] = [
    `# Data boundary: ${props.title}`,
    '',
    'Generated at synth from the construct tree by cdktf-sovereign-hetzner; it changes only when the infrastructure code does.',
    '',
    '## AI Act role',
    '',
    `Declared role: **${policy.aiActRoles.join(' and ')}**.`,
    '',
    '## Data classes and where they live',
    '',
    '| class | meaning | lives in |',
    '|---|---|---|',
  ];
  const holdings = holdingsByClass(props.stacks);
  for (const dataClass of DataClass.all()) {
    lines.push(`| ${dataClass.name} | ${dataClass.description} | ${holdings.get(dataClass.name)?.join('<br>') || '-'} |`);
  }
  lines.push('', 'Terraform state holds every attribute of every resource of its stack, so each state file holds every class its stack holds:', '');
  for (const stack of props.stacks) {
    const where = stateBackendsOf(stack.toTerraform()).map(([type, config]) => (type === 's3' ? `${config.endpoints?.s3 ?? 'S3'} bucket ${config.bucket}, key ${config.key}`
      : type === 'cloud' ? `cloud block: HCP Terraform or Terraform Enterprise at ${cloudHostOf(config)}` : `${type} backend`));
    lines.push(`- ${stack.node.id}: ${where.join('; ')}`);
  }

  lines.push('', '## What may leave, to whom, in what form', '', '| class | may leave to | form |', '|---|---|---|');
  for (const dataClass of DataClass.all()) {
    const allowances = policy.allowances.filter((a) => a.dataClass === dataClass && a.to.length > 0);
    // A backup copy outside Hetzner holds what its machine holds: "never leaves" read false beside a copy at Scaleway.
    const copies = [...new Set((props.encryptedCopies ?? []).filter((c) => c.dataClasses.includes(dataClass)).map((c) => c.to))];
    if (allowances.length === 0 && copies.length === 0) lines.push(`| ${dataClass.name} | nobody: never leaves the EU control plane | never |`);
    for (const a of allowances) lines.push(`| ${dataClass.name} | ${cell(a.to.map((p) => `${p.name} (${p.legalSeat?.city}, ${p.legalSeat?.country})`).join(', '))} | ${a.form} |`);
    if (copies.length > 0) lines.push(`| ${dataClass.name} | ${cell(copies.join(', '))}: backup copies only | encrypted on the machine (restic) before it leaves |`);
  }

  lines.push('', '## Processors', '', '| processor | legal seat | API hostnames | purpose | note |', '|---|---|---|---|---|');
  for (const p of policy.processors) {
    lines.push(`| ${cell(p.name)} | ${cell(`${p.legalSeat?.city}, ${p.legalSeat?.country}`)} (EU) | ${p.hostnames.join(', ')} | ${cell(p.purpose ?? '-')} | ${cell(p.note ?? '-')} |`);
  }

  lines.push('', '## Declared data flows', '', '| workload | class | processor | form | purpose | allowed by the policy |', '|---|---|---|---|---|---|');
  const flows = props.stacks.flatMap((s) => DataFlow.declaredIn(s));
  if (flows.length === 0) lines.push('| - | - | - | - | - | - |');
  for (const f of flows) {
    lines.push(`| ${cell(f.path)} | ${f.dataClass.name} | ${cell(f.processor.name)} | ${f.form} | ${cell(f.purpose ?? '-')} | ${policy.allows(f.dataClass, f.processor, f.form) ? 'yes' : '**no**'} |`);
  }

  lines.push('', ...egressAllowlistSection(props.stacks));

  lines.push('', '## Enforcement points', '', '| rule | what it checks | enforced at | level |', '|---|---|---|---|');
  for (const rule of BOUNDARY_RULES) lines.push(`| ${rule.id} | ${rule.cause} | ${rule.enforcedAt} | ${rule.level} |`);
  lines.push('', 'Declared, not enforced by the infrastructure:', '', ...DECLARED_ONLY.map((d) => `- ${d}`));

  lines.push('', '## Suppressions', '');
  const suppressions = props.stacks.flatMap((s) => BoundarySuppressions.placedIn(s));
  if (suppressions.length === 0) lines.push('None: every rule applies everywhere.');
  else lines.push('| rule | where | reason |', '|---|---|---|', ...suppressions.map((s) => `| ${cell(s.id)} | ${cell(s.appliesTo ? `${s.path} (${s.appliesTo.join(', ')} only)` : s.path)} | ${cell(s.reason)} |`));

  if (props.checklist) {
    lines.push('', '## Good in the first 90 days', '', '| | item | evidence |', '|---|---|---|');
    for (const c of props.checklist) lines.push(`| ${c.met ? 'yes' : '**no**'} | ${cell(c.item)} | ${cell(c.evidence)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * Where each class lives, read as the rules read it (`heldData`): the classes declared on the
 * construct tree with those the labels name, an undeclared resource as sensitive. Labels alone
 * could be overridden (`addOverride('labels.data-secret', …)`) while every rule still judged the
 * machine by its declaration, and the document showed it holding something else.
 */
function holdingsByClass(stacks: readonly TerraformStack[]): Map<string, string[]> {
  const holdings = new Map<string, string[]>();
  for (const stack of stacks) {
    const constructs = new Map<string, IConstruct>(stack.node.findAll().map((c) => [c.node.path, c]));
    for (const r of resourcesOf(stack.toTerraform()).filter((res) => DATA_HOLDING_TYPES.has(res.type))) {
      const held = heldData(r, (at) => constructs.get(at));
      for (const dataClass of held.classes) {
        const where = r.body.location ? ` (${r.body.location})` : '';
        const undeclared = held.undeclared ? ', undeclared' : '';
        holdings.set(dataClass.name, [...(holdings.get(dataClass.name) ?? []), cell(`${stack.node.id}: ${r.type} ${r.body.name ?? r.name}${where}${undeclared}`)]);
      }
    }
  }
  return holdings;
}

/**
 * Per server holding sensitive or secret data, every hostname its host allowlist lets through and
 * why: processors are judged by the policy, but mirrors, extra hosts and construct-declared
 * destinations (backup targets, alert receivers) are not, so the reader must see them here.
 */
function egressAllowlistSection(stacks: readonly TerraformStack[]): string[] {
  const lines = [
    '## Where machines holding sensitive or secret data may connect',
    '',
    'Each host allowlist lets the listed TCP ports reach only these hostnames, for the machine and its containers (the Hetzner firewall opens those '
      + `ports, DNS and NTP to every address: it matches addresses, not names). The host lets ${DNS_AND_NTP_NARROWED}, and closes every other `
      + `TCP and UDP port. ${EGRESS_NOT_NARROWED} Only processors are checked against the policy: every other hostname is here so you can judge it.`,
  ];
  let any = false;
  for (const stack of stacks) {
    const constructs = new Map<string, IConstruct>(stack.node.findAll().map((c) => [c.node.path, c]));
    const constructAt = (at: string) => constructs.get(at);
    for (const server of resourcesOf(stack.toTerraform()).filter((r) => r.type === 'hcloud_server')) {
      const held = heldData(server, constructAt);
      if (!held.classes.some((c) => c === DataClass.SENSITIVE || c === DataClass.SECRET)) continue;
      any = true;
      const construct = constructAt(server.path);
      const allowlist = construct ? allowlistFor(construct) : undefined;
      lines.push('', `### ${allowlist?.path ?? server.path} (${describeHeld(held)})`, '');
      if (!construct || !allowlist) {
        lines.push('**No host allowlist**: its egress is not narrowed to hostnames (Boundary-RestrictedEgress is suppressed or was not checked).');
        continue;
      }
      lines.push(`DNS (53, UDP and TCP) to: the resolvers the machine is configured with, read on the machine (Hetzner's, ${HETZNER_RESOLVERS.join(', ')}, when it names none).`, '');
      lines.push(`NTP (123/udp) to: ${allowlist.timeServers().map((h) => hostCell(construct, h)).join(', ')} (systemd-timesyncd is pinned to them).`, '');
      // Each host on its own ports: the table holds address and port together, so the document says both.
      lines.push(`TCP ${allowlist.narrowedTcpPorts().join(', ')} out, narrowed to these hosts, each on its own ports:`, '', '| hostname | TCP ports | why it is allowed |', '|---|---|---|');
      for (const e of allowlist.entries()) lines.push(`| ${cell(hostCell(construct, e.hostname))} | ${e.ports.join(', ')} | ${cell(e.origins.join('; '))} |`);
    }
  }
  if (!any) lines.push('', 'No machine holds sensitive or secret data.');
  return lines;
}

/** A hostname known only at deploy (a Storage Box's) shows as the Terraform expression that gives it. */
function hostCell(scope: IConstruct, hostname: string): string {
  if (!Token.isUnresolved(hostname)) return hostname;
  return `\`${resolveTemplate(scope, hostname)}\` (known at deploy)`;
}

/**
 * Text safe inside a Markdown table cell: one line, no cell break, no markup. Free text (a
 * suppression's reason, a processor's note) could otherwise end its row or, with `<!--`, hide the
 * rest of the document from every reader of the rendered page.
 */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').replace(/</g, '&lt;');
}
