import * as fc from 'fast-check';
import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import {
  AlertReceiver, BackupPlan, BackupTarget, DataClass, DataFlow, DeadMansSwitch, EgressAllowlist, EgressForm, Environment, EnvironmentMonitoring,
  FirewallRule, Heartbeat, Location, Machine, MonitoringPlan, Phase, PrivateNetwork, Processor, ServerType, StorageBox, SshKey, UptimeCheck,
} from '../../lib';
import { HetznerStandIn } from '../../testing';
import { checkedStack, policy } from './fixtures';
import { outcomeOf } from './refusal';
import { describeWithRealParts, hasTerraform } from '../setup/real-parts';

// Issue #14: "0 invalid configurations accepted", judged by Terraform too. Every configuration of
// this corpus is valid and must be accepted by the library; what it synthesizes then goes through
// `terraform validate` with the stand-in serving the hcloud 1.68 schema, and a deterministic sample
// through `terraform plan`. Terraform init is slow, so every stack shares one working directory:
// one init, then each configuration replaces the last (StandInWorkspace.setConfiguration keeps
// the initialized directory, and every stack has the same provider and backend).

/** How many generated configurations Terraform validates; every PLAN_EVERY-th one is planned too. */
const GENERATED = 64;
const PLAN_EVERY = 8;

const describeWithTerraform = describeWithRealParts(hasTerraform(), 'accepted-with-terraform', 'terraform on PATH, to judge the accepted corpus');

interface Config {
  readonly environment: Environment;
  readonly location: Location;
  readonly serverType: ServerType;
  readonly dataClasses: DataClass[];
  readonly ingress: FirewallRule[];
  readonly restrictEgress: boolean;
  readonly mailPort: boolean;
  readonly labels: Record<string, string>;
  readonly privateNetwork: boolean;
  readonly flow: boolean;
  readonly backups: boolean;
  readonly monitoring: boolean;
}

const EU_TYPES = [ServerType.CX23, ServerType.CX33, ServerType.CX43, ServerType.CAX11, ServerType.CAX21, ServerType.CPX22, ServerType.CPX32, ServerType.CCX13];
const SAFE_INGRESS = [
  FirewallRule.httpsFromAnywhere(), FirewallRule.httpFromAnywhere(), FirewallRule.tcpIn(8443, FirewallRule.ANYWHERE),
  FirewallRule.tcpIn('8000-8080', ['198.51.100.0/24']), FirewallRule.udpIn(51820, FirewallRule.ANYWHERE), FirewallRule.icmpIn(),
];

const config: fc.Arbitrary<Config> = fc.record({
  environment: fc.constantFrom(Environment.PRODUCTION, Environment.TEST),
  location: fc.constantFrom(Location.FSN1, Location.NBG1, Location.HEL1),
  serverType: fc.constantFrom(...EU_TYPES),
  dataClasses: fc.subarray(DataClass.all(), { minLength: 1 }),
  ingress: fc.subarray(SAFE_INGRESS),
  restrictEgress: fc.boolean(),
  mailPort: fc.boolean(),
  labels: fc.dictionary(fc.constantFrom('team', 'cost-center', 'owner'), fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/), { maxKeys: 2 }),
  privateNetwork: fc.boolean(),
  flow: fc.boolean(),
  backups: fc.boolean(),
  monitoring: fc.boolean(),
});

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });

/** One stack per configuration, as a team would write it by hand (no EnvironmentStack). */
function build(c: Config): TerraformStack {
  const stack = checkedStack(c.environment.name);
  const network = c.privateNetwork || c.monitoring
    ? new PrivateNetwork(stack, 'Network', { environment: c.environment, name: `acme-${c.environment.name}-network`, location: c.location })
    : undefined;
  const m = new Machine(stack, 'App', {
    environment: c.environment, role: 'app', name: `acme-${c.environment.name}-app`, serverType: c.serverType, location: c.location,
    dataClasses: c.dataClasses, sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'], ingress: c.ingress, labels: c.labels,
    privateNetwork: network,
  });
  // The boundary requires the allowlist for sensitive and secret data; elsewhere it is the team's choice.
  if (c.restrictEgress || EgressAllowlist.isRequiredFor(m)) {
    EgressAllowlist.apply(m, { policy });
    if (c.mailPort) EgressAllowlist.allowTcpPort(m, 587, 'SMTP submission');
  }
  if (c.flow) DataFlow.declare(m, { processor: Processor.mistralAi(), dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED, purpose: 'scrubbed prompts' });
  if (c.backups) {
    const box = new StorageBox(stack, 'StorageBox', {
      environment: c.environment, location: c.location === Location.HEL1 ? Location.FSN1 : Location.HEL1, password: secret(stack, 'storage_box_password'),
    });
    const account = box.addSubaccount('App', { homeDirectory: 'backups/app', password: secret(stack, 'storage_box_app_password') });
    BackupPlan.phase1(stack, 'Backups', {
      environment: c.environment, resticPassword: secret(stack, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url')),
      targets: [BackupTarget.storageBox(account, { hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'] })],
    }).protect(m, { paths: ['/srv/uploads'] });
  }
  if (c.monitoring) {
    new EnvironmentMonitoring(stack, 'Monitoring', {
      environment: c.environment, phase: Phase.ONE, machine: m,
      plan: new MonitoringPlan({
        uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'), UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')],
        receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
        deadMansSwitch: DeadMansSwitch.healthchecksIo(),
      }),
    });
  }
  return stack;
}

function describeConfig(c: Config): string {
  return [c.environment.name, c.location.name, c.serverType.name, c.dataClasses.map((d) => d.name).join('+'), `${c.ingress.length} ingress`,
    ...(['restrictEgress', 'mailPort', 'privateNetwork', 'flow', 'backups', 'monitoring'] as const).filter((k) => c[k])].join(' ');
}

const configs = fc.sample(config, { numRuns: GENERATED, seed: 1420 });
/** What the library synthesized for each accepted configuration, by index: built once, judged by Terraform below. */
const accepted = new Map<number, any>();

/** The synthesized JSON of configuration `i`, which the library must accept. */
function acceptedJson(i: number): any {
  if (!accepted.has(i)) {
    const outcome = outcomeOf(() => build(configs[i]));
    if (outcome.kind !== 'accepted') throw new Error(`refused a valid configuration: ${outcome.kind === 'rejected' ? outcome.message : String(outcome.error)}`);
    accepted.set(i, JSON.parse(Testing.synth(outcome.stacks[0])));
  }
  return accepted.get(i);
}

describe('accepted configurations: the library accepts every valid one', () => {
  test.each(configs.map((c, i) => [i, describeConfig(c)] as const))('%i: %s is accepted', (i) => {
    expect(acceptedJson(i)).toHaveProperty('resource.hcloud_server');
  });
});

describeWithTerraform('accepted configurations: Terraform accepts what the library accepts', () => {
  const standIn = new HetznerStandIn({ reattach: true });
  afterAll(() => standIn.stop(true));

  test(`all ${GENERATED} generated stacks pass terraform validate, every ${PLAN_EVERY}th also plan, in one initialized directory`, () => {
    // Only what the library accepted (synthesized with validations) goes to Terraform.
    const stacks = configs.map((c, i) => ({ name: describeConfig(c), json: acceptedJson(i) }));
    // The corpus covers what it claims to: every option appears, on and off.
    for (const key of ['restrictEgress', 'privateNetwork', 'flow', 'backups', 'monitoring'] as const) {
      expect(new Set(configs.map((c) => c[key]))).toEqual(new Set([true, false]));
    }
    const ws = standIn.workspace(stacks[0].json, { name: 'accepted-corpus' });
    const init = ws.init();
    expect({ ok: init.ok, stderr: init.stderr }).toEqual({ ok: true, stderr: '' });
    const failures: string[] = [];
    let validated = 0;
    let planned = 0;
    stacks.forEach((s, i) => {
      ws.setConfiguration(s.json);
      const run = ws.validate();
      validated += 1;
      const errors = run.diagnostics.filter((d) => d.severity === 'error');
      if (!run.ok || errors.length > 0) failures.push(`${i} ${s.name}: validate: ${JSON.stringify(errors)} ${run.stderr}`);
      if (i % PLAN_EVERY !== 0) return;
      const { run: plan, changes } = ws.plan();
      planned += 1;
      if (!plan.ok || !changes) {
        failures.push(`${i} ${s.name}: plan: ${JSON.stringify(plan.diagnostics.filter((d) => d.severity === 'error'))} ${plan.stderr}`);
        return;
      }
      // A first plan creates every resource the stack declares, and nothing else.
      const declared = Object.entries(s.json.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName as object).map((n) => `${type}.${n}`)).sort();
      const created = changes.creates.map((c) => c.address).sort();
      if (JSON.stringify(created) !== JSON.stringify(declared)) failures.push(`${i} ${s.name}: plan creates ${created.join(', ')}, declared ${declared.join(', ')}`);
    });
    expect(failures).toEqual([]);
    expect({ validated, planned }).toEqual({ validated: GENERATED, planned: Math.ceil(GENERATED / PLAN_EVERY) });
  });
});
