import * as fc from 'fast-check';
import { TerraformOutput, Testing } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { StorageBox } from '../../generated/providers/hcloud/storage-box';
import { DataClass, DataFlow, EgressForm, FirewallRule, Location, Processor, SecretVariable } from '../../lib';
import { secretKindIn, stringsWithPaths } from '../../lib/boundary/secret-patterns';
import { checkedStack, jina, machine, mistral, policy } from './fixtures';

// A generated configuration: where a machine runs, what it holds, what is open, what it sends, what it leaks.
interface Config {
  location: string;
  classes: DataClass[];
  ingress: Array<{ port: number; anywhere: boolean }>;
  rawSshFromAnywhere: boolean;
  restrictEgress: boolean;
  flows: Array<{ processor: Processor; dataClass: DataClass; form: EgressForm }>;
  leak: 'none' | 'box-password' | 'cloud-init-token';
  output: 'none' | 'unmarked-secret' | 'marked-secret';
}

const config: fc.Arbitrary<Config> = fc.record({
  location: fc.constantFrom(...Location.all().map((l) => l.name)),
  classes: fc.subarray(DataClass.all(), { minLength: 1 }),
  ingress: fc.subarray([{ port: 443, anywhere: true }, { port: 5432, anywhere: true }, { port: 5432, anywhere: false }, { port: 6379, anywhere: true }]),
  rawSshFromAnywhere: fc.boolean(),
  restrictEgress: fc.boolean(),
  flows: fc.subarray([
    { processor: mistral, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED },
    { processor: jina, dataClass: DataClass.PUBLIC, form: EgressForm.RAW },
    { processor: jina, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED },
    { processor: mistral, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.RAW },
    { processor: mistral, dataClass: DataClass.SENSITIVE, form: EgressForm.PSEUDONYMIZED },
  ]),
  leak: fc.constantFrom('none', 'box-password', 'cloud-init-token'),
  output: fc.constantFrom('none', 'unmarked-secret', 'marked-secret'),
});

function build(c: Config) {
  const stack = checkedStack();
  const m = machine(stack, 'App', {
    dataClasses: c.classes,
    ingress: c.ingress.map((i) => FirewallRule.tcpIn(i.port, i.anywhere ? FirewallRule.ANYWHERE : ['10.0.0.0/8'])),
  }, c.restrictEgress);
  m.server.location = c.location; // placed directly, so only the boundary rule judges it
  for (const flow of c.flows) DataFlow.declare(m, flow);
  if (c.rawSshFromAnywhere) new Firewall(stack, 'Raw', { name: 'raw', rule: [{ direction: 'in', protocol: 'tcp', port: '22', sourceIps: ['0.0.0.0/0'] }] });
  if (c.leak === 'box-password') new StorageBox(stack, 'Box', { name: 'b', location: 'hel1', storageBoxType: 'bx11', password: 'Plaintext-Passw0rd!' });
  if (c.leak === 'cloud-init-token') m.addCloudInitPart({ name: 'leak', files: [{ path: '/etc/app.env', content: 'APP_API_TOKEN=s3cr3t-t0ken-value\n' }] });
  if (c.output !== 'none') {
    new TerraformOutput(stack, 'out', { value: new SecretVariable(stack, 'api_token', { description: 'token' }).stringValue, sensitive: c.output === 'marked-secret' });
  }
  return stack;
}

/** The rules a configuration breaks, worked out independently of the rules' code. */
function expectedViolations(c: Config): string[] {
  const strictest = DataClass.strictest(c.classes)!;
  const violated = new Set<string>();
  if (!Location.of(c.location).inEu && strictest !== DataClass.PUBLIC) violated.add('Boundary-EuPlacement');
  if (c.flows.some((f) => !policy.allows(f.dataClass, f.processor, f.form))) violated.add('Boundary-ProcessorAllowed');
  if (c.leak !== 'none') violated.add('Boundary-NoPlaintextSecret');
  if (c.output === 'unmarked-secret') violated.add('Boundary-SensitiveOutput');
  if (c.ingress.some((i) => i.anywhere && i.port !== 443)) violated.add('Boundary-NoPublicDataStore');
  if (c.rawSshFromAnywhere) violated.add('Boundary-AdminSshOnly');
  if (!c.restrictEgress && c.classes.some((k) => k === DataClass.SENSITIVE || k === DataClass.SECRET)) violated.add('Boundary-RestrictedEgress');
  return [...violated].sort();
}

function synth(stack: ReturnType<typeof build>): { json?: any; error?: string } {
  try {
    return { json: JSON.parse(Testing.synth(stack, true)) };
  } catch (e) {
    return { error: String((e as Error).message) };
  }
}

describe('the boundary over generated configurations', () => {
  test('rejects exactly the configurations that break a rule, naming each broken rule', () => {
    fc.assert(fc.property(config, (c) => {
      const { error } = synth(build(c));
      const reported = [...new Set((error ?? '').match(/Boundary-[A-Za-z]+(?=: )/g) ?? [])].sort();
      expect(reported).toEqual(expectedViolations(c));
    }), { numRuns: 150, seed: 20261125 });
  });

  test('every configuration that passes holds the invariants', () => {
    fc.assert(fc.property(config, (c) => {
      const { json } = synth(build(c));
      if (!json) return;
      const servers: any[] = Object.values(json.resource.hcloud_server);
      const firewalls: any[] = Object.values(json.resource.hcloud_firewall);
      for (const s of servers) if (!Location.of(s.location).inEu) expect(s.labels['data-class']).toBe('public');
      for (const f of firewalls) {
        for (const r of f.rule.filter((x: any) => x.direction === 'in' && x.source_ips.some((ip: string) => ip.endsWith('/0')))) {
          expect(['22', '5432', '6379']).not.toContain(r.port);
        }
      }
      for (const s of servers.filter((x) => x.labels['data-sensitive'] || x.labels['data-secret'])) {
        const own = firewalls.filter((f) => s.firewall_ids.some((id: string) => id.includes(f['//'].metadata.uniqueId)));
        expect(own.some((f) => f.rule.some((r: any) => r.direction === 'out'))).toBe(true);
      }
      expect(stringsWithPaths(json).filter(({ value }) => secretKindIn(value))).toEqual([]);
      for (const o of Object.values(json.output ?? {}) as any[]) expect(o.sensitive).toBe(true);
      for (const f of c.flows) expect(policy.allows(f.dataClass, f.processor, f.form)).toBe(true);
    }), { numRuns: 150, seed: 7 });
  });
});

describe('catalogue of bad configurations', () => {
  const base: Config = { location: 'fsn1', classes: [DataClass.SENSITIVE], ingress: [], rawSshFromAnywhere: false, restrictEgress: true, flows: [], leak: 'none', output: 'none' };
  const catalogue: Array<[string, Partial<Config>, string[]]> = [
    ['sensitive data in Ashburn', { location: 'ash' }, ['Boundary-EuPlacement']],
    ['secrets in Singapore', { location: 'sin', classes: [DataClass.SECRET] }, ['Boundary-EuPlacement']],
    ['scrubbed data to a processor allowed only public data', { flows: [{ processor: jina, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED }] }, ['Boundary-ProcessorAllowed']],
    ['sensitive data to a processor, even pseudonymized', { flows: [{ processor: mistral, dataClass: DataClass.SENSITIVE, form: EgressForm.PSEUDONYMIZED }] }, ['Boundary-ProcessorAllowed']],
    ['a literal Storage Box password', { leak: 'box-password' }, ['Boundary-NoPlaintextSecret']],
    ['a token in cloud-init', { leak: 'cloud-init-token' }, ['Boundary-NoPlaintextSecret']],
    ['a secret output not marked sensitive', { output: 'unmarked-secret' }, ['Boundary-SensitiveOutput']],
    ['PostgreSQL open to the internet', { ingress: [{ port: 5432, anywhere: true }] }, ['Boundary-NoPublicDataStore']],
    ['SSH open to the internet', { rawSshFromAnywhere: true }, ['Boundary-AdminSshOnly']],
    ['a sensitive machine with open egress', { restrictEgress: false }, ['Boundary-RestrictedEgress']],
    ['combined: secrets abroad, open egress, public Redis and a leaked token', { location: 'hil', classes: [DataClass.SECRET], restrictEgress: false, ingress: [{ port: 6379, anywhere: true }], leak: 'cloud-init-token' },
      ['Boundary-EuPlacement', 'Boundary-NoPlaintextSecret', 'Boundary-NoPublicDataStore', 'Boundary-RestrictedEgress']],
    ['combined: a disallowed flow and an unmarked secret output', { flows: [{ processor: mistral, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.RAW }], output: 'unmarked-secret' },
      ['Boundary-ProcessorAllowed', 'Boundary-SensitiveOutput']],
  ];
  test.each(catalogue)('%s is rejected by exactly its rules', (_name, override, rules) => {
    const { error } = synth(build({ ...base, ...override }));
    expect([...new Set(error?.match(/Boundary-[A-Za-z]+(?=: )/g) ?? [])].sort()).toEqual(rules);
    for (const rule of rules) expect(error).toMatch(new RegExp(`${rule}: .* Fix: `));
  });
  test('the base configuration passes', () => {
    expect(synth(build(base)).error).toBeUndefined();
  });
});
