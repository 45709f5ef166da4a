import { Testing, TerraformOutput, TerraformStack } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { StorageBox } from '../../generated/providers/hcloud/storage-box';
import {
  BOUNDARY_RULES, BoundarySuppressions, DataClass, DataFlow, EgressAllowlist, EgressForm, FirewallRule, Location, Port, SecretVariable, ServerType,
} from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { requireConstructDestinations } from '../../lib/boundary/egress-allowlist';
import { warningsOf } from '../setup/stack';
import { checkedStack, jina, machine, mistral, policy, synthErrors } from './fixtures';

describe('boundary rule pack', () => {
  test('has exactly these rules', () => {
    expect(BOUNDARY_RULES.map((r) => r.id)).toEqual([
      'Boundary-EuPlacement', 'Boundary-ProcessorAllowed', 'Boundary-NoPlaintextSecret', 'Boundary-SensitiveOutput',
      'Boundary-SecretViaVariable', 'Boundary-NoPublicDataStore', 'Boundary-AdminSshOnly', 'Boundary-EuStateBackend', 'Boundary-RestrictedEgress', 'Boundary-PortToEveryHost',
      'Boundary-UncheckedSender',
      'Boundary-ErrorMonitoringEndpoint',
    ]);
  });

  test('a compliant stack passes every rule', () => {
    const stack = checkedStack();
    const app = machine(stack);
    DataFlow.declare(app, { processor: mistral, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED });
    expect(synthErrors(stack)).toBe('');
  });
});

// Each rule: a non-compliant case, a compliant case and a suppressed case.
type Case = { rule: string; bad: (s: TerraformStack) => void; good: (s: TerraformStack) => void; message: RegExp; suppressAt?: 'stack' };
const REASON = 'Reviewed with the DPO on 2026-11-20: see ticket SEC-42 for the analysis.';

const rawServer = (s: TerraformStack, location: string, labels?: Record<string, string>) => {
  const m = machine(s, 'Public', { dataClasses: [DataClass.PUBLIC], location: Location.FSN1, serverType: ServerType.CCX13 });
  m.server.location = location;
  if (labels) m.server.labels = labels;
  return m;
};

const cases: Case[] = [
  {
    rule: 'Boundary-EuPlacement',
    bad: (s) => rawServer(s, 'ash', { 'data-class': 'sensitive' }),
    good: (s) => rawServer(s, 'ash', { 'data-class': 'public' }),
    message: /Boundary-EuPlacement: production\/Public\/Resource\.location: 'ash' is not allowed: hcloud_server holds sensitive data, which must stay in the EU\. Fix:/,
  },
  {
    rule: 'Boundary-ProcessorAllowed',
    bad: (s) => DataFlow.declare(machine(s), { processor: jina, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED }),
    good: (s) => DataFlow.declare(machine(s), { processor: jina, dataClass: DataClass.PUBLIC, form: EgressForm.RAW }),
    message: /Boundary-ProcessorAllowed: production\/App\.dataFlow: 'pseudonymized → Jina AI \(pseudonymized\)' is not allowed: the policy does not let pseudonymized data go to Jina AI\. Fix:/,
  },
  {
    rule: 'Boundary-NoPlaintextSecret',
    bad: (s) => new StorageBox(s, 'Box', { name: 'b', location: 'hel1', storageBoxType: 'bx11', password: 'Sup3r-Secret-Passw0rd!' }),
    good: (s) => new StorageBox(s, 'Box', { name: 'b', location: 'hel1', storageBoxType: 'bx11', password: new SecretVariable(s, 'box_password', { description: 'Storage Box password' }).stringValue }),
    message: /Boundary-NoPlaintextSecret: production\/Box\.password: '<redacted>' is not allowed: the provider marks it sensitive and it is a literal/,
  },
  {
    rule: 'Boundary-SensitiveOutput',
    bad: (s) => new TerraformOutput(s, 'pw', { value: new SecretVariable(s, 'pw_var', { description: 'x' }).stringValue }),
    good: (s) => new TerraformOutput(s, 'pw', { value: new SecretVariable(s, 'pw_var', { description: 'x' }).stringValue, sensitive: true }),
    message: /Boundary-SensitiveOutput: production\.output\.pw: 'sensitive: false' is not allowed: the output carries a secret/,
    suppressAt: 'stack',
  },
  {
    rule: 'Boundary-SecretViaVariable',
    bad: (s) => new StorageBox(s, 'Box', { name: 'b', location: 'hel1', storageBoxType: 'bx11', password: new (require('cdktf').TerraformVariable)(s, 'plain_pw', { type: 'string' }).stringValue }),
    good: (s) => new StorageBox(s, 'Box', { name: 'b', location: 'hel1', storageBoxType: 'bx11', password: new SecretVariable(s, 'plain_pw', { description: 'x' }).stringValue }),
    message: /Boundary-SecretViaVariable: production\/Box\.password: 'var\.plain_pw' is not allowed: the variable feeding a sensitive attribute is not marked sensitive\. Fix: declare it with SecretVariable/,
  },
  {
    rule: 'Boundary-NoPublicDataStore',
    bad: (s) => machine(s, 'Db', { ingress: [FirewallRule.tcpIn(5432, FirewallRule.ANYWHERE)] }),
    good: (s) => machine(s, 'Db', { ingress: [FirewallRule.tcpIn(5432, ['10.0.0.0/8'])] }),
    message: /Boundary-NoPublicDataStore: production\/Db\/Firewall\.rule: 'tcp 5432 from 0\.0\.0\.0\/0, ::\/0' is not allowed: it exposes PostgreSQL \(port 5432\) to the internet/,
  },
  {
    rule: 'Boundary-AdminSshOnly',
    bad: (s) => new Firewall(s, 'RawFirewall', { name: 'raw', rule: [{ direction: 'in', protocol: 'tcp', port: '20-30', sourceIps: ['0.0.0.0/0'] }] }),
    good: (s) => new Firewall(s, 'RawFirewall', { name: 'raw', rule: [{ direction: 'in', protocol: 'tcp', port: '20-30', sourceIps: ['203.0.113.0/24'] }] }),
    message: /Boundary-AdminSshOnly: production\/RawFirewall\.rule: 'tcp 20-30 from 0\.0\.0\.0\/0' is not allowed: it opens SSH to the whole internet/,
  },
  {
    rule: 'Boundary-RestrictedEgress',
    bad: (s) => machine(s, 'Open', {}, false),
    good: (s) => machine(s, 'Open', {}, true),
    message: /Boundary-RestrictedEgress: production\/Open\/Resource\.egress: 'allow all' is not allowed: the server holds sensitive data and its firewall has no outbound rules/,
  },
];

describe.each(cases)('$rule', ({ rule, bad, good, message, suppressAt }) => {
  test('fails when non-compliant, naming the path and the fix', () => {
    const stack = checkedStack();
    bad(stack);
    expect(synthErrors(stack)).toMatch(message);
  });
  test('passes when compliant', () => {
    const stack = checkedStack();
    good(stack);
    expect(synthErrors(stack)).toBe('');
  });
  test('passes when suppressed with a reason', () => {
    const stack = checkedStack();
    bad(stack);
    const target = suppressAt === 'stack' ? stack : stack.node.children[stack.node.children.length - 1];
    BoundarySuppressions.add(suppressAt === 'stack' ? stack : target, [{ id: rule, reason: REASON }]);
    expect(synthErrors(stack)).not.toMatch(new RegExp(rule));
  });
});

describe('Boundary-ProcessorAllowed fixes', () => {
  // "pseudonymize first" was the fix for every refused flow, also for one already pseudonymized.
  test('name the processors the policy allows for the class, or the form it allows', () => {
    const otherProcessor = checkedStack();
    DataFlow.declare(machine(otherProcessor), { processor: jina, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED });
    expect(synthErrors(otherProcessor)).toMatch(/the policy does not let pseudonymized data go to Jina AI\. Fix: send it to Mistral AI, which the policy allows for pseudonymized data, or change the policy deliberately/);
    const raw = checkedStack();
    DataFlow.declare(machine(raw), { processor: mistral, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.RAW });
    expect(synthErrors(raw)).toMatch(/the policy lets pseudonymized data go to Mistral AI only pseudonymized\. Fix: send it pseudonymized \(scrub it first\), or change the policy deliberately/);
    const nowhere = checkedStack();
    DataFlow.declare(machine(nowhere), { processor: mistral, dataClass: DataClass.SENSITIVE, form: EgressForm.PSEUDONYMIZED });
    expect(synthErrors(nowhere)).toMatch(/the policy does not let sensitive data go to Mistral AI\. Fix: keep sensitive data inside the control plane \(the policy lets it go to no processor\); once scrubbed, declare what leaves as DataClass\.PSEUDONYMIZED; or change the policy deliberately/);
  });
});

describe('Boundary-EuStateBackend', () => {
  test('fails when state lives outside EU object storage', () => {
    const stack = checkedStack();
    stack.addOverride('terraform.backend.s3.endpoints.s3', 'https://s3.us-east-1.amazonaws.com');
    expect(synthErrors(stack)).toMatch(/Boundary-EuStateBackend: production\.backend\.s3\.endpoints\.s3: 'https:\/\/s3\.us-east-1\.amazonaws\.com' is not allowed: state must stay in EU object storage/);
  });
  test('fails on a backend it cannot verify, unless suppressed with a reason', () => {
    const stack = checkedStack('production', undefined, false);
    stack.addOverride('terraform.backend', { remote: { organization: 'acme' } });
    expect(synthErrors(stack)).toMatch(/Boundary-EuStateBackend: production\.backend: 'remote' is not allowed/);
    BoundarySuppressions.add(stack, [{ id: 'Boundary-EuStateBackend', reason: REASON }]);
    expect(synthErrors(stack)).toBe('');
  });
  // Audit (mutation): only an AWS endpoint was refused and the missing lock never checked, so accepting Hetzner's
  // US and Singapore object storage, a look-alike host, or dropping the warning about unlocked state passed.
  test.each([
    'https://ash.your-objectstorage.com', 'https://hil.your-objectstorage.com', 'https://sin.your-objectstorage.com',
    'https://fsn1.your-objectstorage.com.example.net', 'http://fsn1.your-objectstorage.com',
  ])('fails when state lives at %s, which is not EU object storage', (endpoint) => {
    const stack = checkedStack();
    stack.addOverride('terraform.backend.s3.endpoints.s3', endpoint);
    expect(synthErrors(stack)).toMatch(new RegExp(`Boundary-EuStateBackend: production\\.backend\\.s3\\.endpoints\\.s3: '${endpoint.replace(/[.]/g, '\\.')}' is not allowed: state must stay in EU object storage`));
  });
  // Audit (secrets11): the endpoint was printed as written, credentials in its URL included.
  test('refuses an endpoint with credentials in its URL without echoing them', () => {
    const stack = checkedStack();
    stack.addOverride('terraform.backend.s3.endpoints.s3', 'https://AKIAEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCY@s3.us-east-1.amazonaws.com');
    const errors = synthErrors(stack);
    expect(errors).toMatch(/endpoints\.s3: 'https:\/\/<redacted>@s3\.us-east-1\.amazonaws\.com' is not allowed: state must stay in EU object storage/);
    expect(errors).not.toContain('wJalrXUtnFEMI');
  });
  test('warns when EU object storage keeps state without a lock', () => {
    const stack = checkedStack();
    stack.addOverride('terraform.backend.s3.use_lockfile', false);
    expect(synthErrors(stack)).toBe('');
    const warnings = stack.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings).toContainEqual(expect.stringMatching(/Boundary-EuStateBackend: production\.backend\.s3\.use_lockfile: state without locking can be corrupted by two concurrent applies\. Fix: set use_lockfile/));
  });
  test('warns on local state, and passes on EU object storage', () => {
    const stack = checkedStack('production', undefined, false);
    expect(synthErrors(stack)).toBe('');
    const warnings = stack.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings).toContainEqual(expect.stringMatching(/Boundary-EuStateBackend: production\.backend: 'local' keeps state on one disk/));
  });
});

describe('suppressions', () => {
  test('fail when the rule id is unknown', () => {
    const stack = checkedStack();
    expect(() => BoundarySuppressions.add(stack, [{ id: 'Boundary-Nope', reason: REASON }])).toThrow(/production\.suppressions: 'Boundary-Nope' is not allowed: it is not a boundary rule\. Fix: use one of Boundary-EuPlacement/);
  });
  test('fail without a real reason', () => {
    const stack = checkedStack();
    expect(() => BoundarySuppressions.add(stack, [{ id: 'Boundary-AdminSshOnly', reason: 'ok' }])).toThrow(/needs a specific reason of at least 20 characters/);
  });
  test('fail when they suppress nothing', () => {
    const stack = checkedStack();
    const m = machine(stack);
    BoundarySuppressions.add(m, [{ id: 'Boundary-AdminSshOnly', reason: REASON }]);
    expect(synthErrors(stack)).toMatch(/production\/App\.suppressions: 'Boundary-AdminSshOnly' is not allowed: the suppression matches no finding/);
  });
  test('apply to everything below the construct they are placed on', () => {
    const stack = checkedStack();
    machine(stack, 'A', {}, false);
    // A name of its own: two servers of one name fail synth (Hetzner refused the second at apply).
    machine(stack, 'B', { name: 'production-app-2' }, false);
    BoundarySuppressions.add(stack, [{ id: 'Boundary-RestrictedEgress', reason: REASON }]);
    expect(synthErrors(stack)).toBe('');
  });
});

test('error messages never contain the secret they found', () => {
  const stack = checkedStack();
  new StorageBox(stack, 'Box', { name: 'b', location: 'hel1', storageBoxType: 'bx11', password: 'Sup3r-Secret-Passw0rd!' });
  const m = machine(stack);
  m.addCloudInitPart({ name: 'leak', files: [{ path: '/etc/app.env', content: 'API_TOKEN=abcd1234efgh5678ijkl\n' }] });
  const errors = synthErrors(stack);
  expect(errors).toMatch(/looks like a password or token assignment/);
  expect(errors).not.toContain('Sup3r-Secret-Passw0rd!');
  expect(errors).not.toContain('abcd1234efgh5678ijkl');
  expect(Testing).toBeDefined();
});

test('a secret in a compressed cloud-init file is found too', () => {
  const stack = checkedStack();
  const m = machine(stack);
  m.addCloudInitPart({ name: 'hidden', files: [{ path: '/etc/app.env', content: 'DB_PASSWORD=hunter2hunter2\n', compress: true }] });
  expect(synthErrors(stack)).toMatch(/Boundary-NoPlaintextSecret: .*looks like a password or token assignment/);
});

// A port opened for the allowlist as a whole (allowTcpPort, or a rule of the team's on which no destination is declared)
// reached every allowlisted host, api.mistral.ai among them, without a word at synth.
describe('Boundary-PortToEveryHost', () => {
  const RELAY = 'mail relay the alert e-mails are submitted to';
  const warned = (stack: TerraformStack) => {
    expect(synthErrors(stack)).toBe('');
    return warningsOf(stack).filter((w) => w.startsWith('Boundary-PortToEveryHost'));
  };
  const hostnames = (m: ReturnType<typeof machine>) => String(m.bundle.files().get('/etc/sovereign/egress-hostnames')?.content);

  test('warns of a port opened with allowTcpPort or a rule of the team\'s, naming the port, what opened it and the narrow fix', () => {
    const stack = checkedStack();
    const m = machine(stack);
    EgressAllowlist.allowTcpPort(m, 587, 'SMTP to the mail relay');
    m.allowOutbound(FirewallRule.tcpOut(8443, FirewallRule.ANYWHERE, { description: 'artifact store' }));
    expect(warned(stack)).toEqual([
      expect.stringMatching(/^Boundary-PortToEveryHost: production\/App\.egress: 'TCP 587' \(opened with EgressAllowlist\.allowTcpPort: 'SMTP to the mail relay'\) reaches every allowlisted host, api\.mistral\.ai, api\.jina\.ai \(the policy's processors\) among them, .* Fix: open the port to the hosts that need it, EgressAllowlist\.allowTcpPortTo\(machine, Port\.of\(587\), \['<host>'\], .* in place of the allowTcpPort call; .* BoundarySuppressions\.add\(machine, \[\{ id: 'Boundary-PortToEveryHost', reason: '…', appliesTo: \['TCP 587'\] \}\]\)/),
      expect.stringMatching(/^Boundary-PortToEveryHost: production\/App\.egress: 'TCP 8443' \(opened by a rule of your own: 'artifact store'\) .* in place of the rule;/),
    ]);
  });

  // 0.1's way to a ping URL's own port (allowTcpPort(m, 8443)) kept beside the heartbeat's declared port was told that no
  // destination is declared on the port, with allowTcpPortTo(['<host>']) as the fix, which a host inside a secret URL cannot
  // follow; removing the call is. 443 and 23 opened with allowTcpPort listed the allowlist's own rule as the team's, and 443
  // is every host's anyway; a rule to a few addresses was said to reach every allowlisted host.
  test('a port a construct declared its host on says the allowTcpPort call may go; 80 and 443, the allowlist\'s own rules and a rule to a few addresses are not warned of', () => {
    const stack = checkedStack();
    const m = machine(stack);
    EgressAllowlist.allowTcpPort(m, 8443, 'ping URL on its own port');
    requireConstructDestinations(m, ['hc.acme.eu'], 'backup heartbeat pinged after each backup', Port.of(8443));
    EgressAllowlist.allowTcpPort(m, 443, 'HTTPS to the API');
    EgressAllowlist.allowTcpPort(m, 23, 'SSH to the Storage Box');
    m.allowOutbound(FirewallRule.tcpOut(5432, ['203.0.113.10/32'], { description: 'replica' }));
    expect(warned(stack)).toEqual([
      expect.stringMatching(/^Boundary-PortToEveryHost: production\/App\.egress: 'TCP 23' \(opened with EgressAllowlist\.allowTcpPort: 'SSH to the Storage Box'\) reaches every allowlisted host/),
      expect.stringMatching(/^Boundary-PortToEveryHost: production\/App\.egress: 'TCP 8443' \(opened with EgressAllowlist\.allowTcpPort: 'ping URL on its own port'\) reaches every allowlisted host.*: backup heartbeat pinged after each backup is declared on the port by the library, which opens it for that host alone without the call\. Fix: remove the allowTcpPort call; if another host needs TCP 8443, open it to that host, EgressAllowlist\.allowTcpPortTo/),
    ]);
  });

  test('allowTcpPortTo opens the port to the named hosts alone: no warning, and no other host under the port in the host table', () => {
    const stack = checkedStack();
    const m = machine(stack);
    EgressAllowlist.allowTcpPortTo(m, Port.of(587), ['smtp.acme.eu'], RELAY);
    expect(warned(stack)).toEqual([]);
    expect(m.egressRules.filter((r) => r.ports?.from === 587).map((r) => r.description)).toEqual([RELAY]);
    expect(hostnames(m)).toMatch(/^ports 80 443\n(?:(?!ports).*\n)*ports 587\nsmtp\.acme\.eu\n$/);
    expect(hostnames(m)).not.toMatch(/ports [0-9 ]*587[0-9 ]*\n(?:(?!ports).*\n)*api\.mistral\.ai/);
    // Beside a port the old way opened to every host, the rule still warns of that one only.
    EgressAllowlist.allowTcpPort(m, 2525, 'SMTP to the other relay');
    expect(warned(stack).map((w) => w.match(/'TCP \d+'/)![0])).toEqual(["'TCP 2525'"]);
    // Opened the old way a second time (another construct of the team's), it stays one rule and one warning.
    EgressAllowlist.allowTcpPort(m, 2525, 'SMTP again');
    expect(m.egressRules.filter((r) => r.ports?.from === 2525).map((r) => r.description)).toEqual(['SMTP to the other relay']);
    expect(warned(stack).map((w) => w.match(/'TCP \d+'/)![0])).toEqual(["'TCP 2525'"]);
  });

  test('a port every allowlisted host needs is accepted with a suppression, which boundary.md lists; one that suppresses nothing is refused', () => {
    const stack = checkedStack();
    const m = machine(stack);
    EgressAllowlist.allowTcpPort(m, 587, 'SMTP to the mail relay');
    BoundarySuppressions.add(m, [{ id: 'Boundary-PortToEveryHost', reason: REASON }]);
    expect(warned(stack)).toEqual([]);
    expect(boundaryDocument({ title: 'acme', policy, stacks: [stack] })).toMatch(/\| Boundary-PortToEveryHost \| production\/App \| Reviewed with the DPO/);
    const unused = checkedStack();
    BoundarySuppressions.add(machine(unused), [{ id: 'Boundary-PortToEveryHost', reason: REASON }]);
    expect(synthErrors(unused)).toMatch(/production\/App\.suppressions: 'Boundary-PortToEveryHost' is not allowed: the suppression matches no finding/);
  });

  // A suppression covered every such port of its machine: a port opened later for the allowlist as a whole went unreported.
  test('a suppression naming its ports covers those alone: a port opened later is reported again; one without covers every port, as before', () => {
    const named = checkedStack();
    const m = machine(named);
    EgressAllowlist.allowTcpPort(m, 587, 'SMTP to the mail relay');
    BoundarySuppressions.add(m, [{ id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: ['TCP 587'] }]);
    expect(warned(named)).toEqual([]);
    EgressAllowlist.allowTcpPort(m, 2525, 'SMTP to the other relay');
    expect(warned(named).map((w) => w.match(/'TCP \d+'/)![0])).toEqual(["'TCP 2525'"]);
    expect(boundaryDocument({ title: 'acme', policy, stacks: [named] })).toMatch(/\| Boundary-PortToEveryHost \| production\/App \(TCP 587 only\) \| Reviewed with the DPO/);

    const wide = checkedStack();
    const w = machine(wide);
    EgressAllowlist.allowTcpPort(w, 587, 'SMTP to the mail relay');
    BoundarySuppressions.add(w, [{ id: 'Boundary-PortToEveryHost', reason: REASON }]);
    EgressAllowlist.allowTcpPort(w, 2525, 'SMTP to the other relay');
    expect(warned(wide)).toEqual([]);

    // A port it names that nothing opens is refused, as an unused suppression is; so is an empty list.
    const stale = checkedStack();
    const s = machine(stale);
    EgressAllowlist.allowTcpPort(s, 587, 'SMTP to the mail relay');
    BoundarySuppressions.add(s, [{ id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: ['TCP 587', 'TCP 465'] }]);
    expect(synthErrors(stale)).toMatch(/production\/App\.suppressions: 'Boundary-PortToEveryHost' appliesTo 'TCP 465' is not allowed: it matches no finding of the rule there\. Fix: remove it from appliesTo/);
    expect(() => BoundarySuppressions.add(machine(checkedStack()), [{ id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: [] }]))
      .toThrow(/production\/App\.suppressions\.entries\[0\]\.appliesTo: \[\] is not allowed: .* Fix: name what it covers/);
    // From plain JavaScript, an entry that is not text is refused naming it.
    expect(() => BoundarySuppressions.add(machine(checkedStack()), [{ id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: [587 as any] }]))
      .toThrow(/appliesTo\[0\].*587.* Fix: write it as the finding names it, such as 'TCP 587'/);
  });

  // At 0.1 two suppressions of one rule on one construct both counted as used; since appliesTo the second (or one a broader
  // one shadowed) failed synth as "matches no finding. Fix: remove it", naming neither why nor the other one.
  test('a second suppression of a rule on one construct covering the same findings is refused at add, naming both', () => {
    const m = machine(checkedStack());
    EgressAllowlist.allowTcpPort(m, 587, 'SMTP to the mail relay');
    BoundarySuppressions.add(m, [{ id: 'Boundary-PortToEveryHost', reason: REASON }]);
    expect(() => BoundarySuppressions.add(m, [{ id: 'Boundary-PortToEveryHost', reason: `${REASON} again` }]))
      .toThrow(/^production\/App\.suppressions: 'Boundary-PortToEveryHost' \(every finding, reason .*again.*\) is not allowed: production\/App has a suppression of 'Boundary-PortToEveryHost' covering the same findings already \(every finding, reason .*\), so one of them would match no finding\. Fix: keep one suppression/);
    const n = machine(checkedStack());
    expect(() => BoundarySuppressions.add(n, [{ id: 'Boundary-PortToEveryHost', reason: REASON }, { id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: ['TCP 587'] }]))
      .toThrow(/\(appliesTo 'TCP 587', reason .*\) is not allowed: .* already \(every finding, reason/);
    // Different ports on one construct each cover their own.
    const stack = checkedStack();
    const o = machine(stack);
    EgressAllowlist.allowTcpPort(o, 587, 'SMTP to the mail relay');
    EgressAllowlist.allowTcpPort(o, 2525, 'SMTP to the other relay');
    BoundarySuppressions.add(o, [{ id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: ['TCP 587'] }]);
    BoundarySuppressions.add(o, [{ id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: ['TCP 2525'] }]);
    expect(warned(stack)).toEqual([]);
    expect(synthErrors(stack)).toBe('');
    expect(() => BoundarySuppressions.add(o, [{ id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: ['TCP 25', 'TCP 2525'] }])).toThrow(/covering the same findings already \(appliesTo 'TCP 2525'/);
  });

  // An ancestor's suppression that a nearer one shadowed at every finding was told "matches no finding. Fix: remove it",
  // which was untrue (it matches them) and named neither the nearer one nor which of the two to keep.
  test("a stack's suppression that a machine's own suppression of the rule shadows is refused naming the machine's, not as matching nothing", () => {
    const stack = checkedStack();
    const m = machine(stack);
    EgressAllowlist.allowTcpPort(m, 587, 'SMTP to the mail relay');
    BoundarySuppressions.add(m, [{ id: 'Boundary-PortToEveryHost', reason: REASON }]);
    BoundarySuppressions.add(stack, [{ id: 'Boundary-PortToEveryHost', reason: `${REASON} For the stack.`, appliesTo: ['TCP 587', 'TCP 465'] }]);
    const errors = synthErrors(stack);
    expect(errors).toContain(`production.suppressions: 'Boundary-PortToEveryHost' appliesTo 'TCP 587' is not allowed: every finding it covers is covered by the suppression of the rule on production/App (every finding, reason '${REASON}'), the nearer one, which applies there and which the boundary document lists. Fix: keep one suppression for each finding`);
    // An entry nothing would match is still told apart.
    expect(errors).toMatch(/production\.suppressions: 'Boundary-PortToEveryHost' appliesTo 'TCP 465' is not allowed: it matches no finding of the rule there\./);
    expect(errors).not.toMatch(/appliesTo 'TCP 587', 'TCP 465'|'TCP 465' is not allowed: every finding/);

    // A whole-rule suppression on the stack, shadowed by a machine's that names the port.
    const wide = checkedStack();
    const w = machine(wide);
    EgressAllowlist.allowTcpPort(w, 587, 'SMTP to the mail relay');
    BoundarySuppressions.add(w, [{ id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: ['TCP 587'] }]);
    BoundarySuppressions.add(wide, [{ id: 'Boundary-PortToEveryHost', reason: REASON }]);
    expect(synthErrors(wide)).toMatch(/^.*production\.suppressions: 'Boundary-PortToEveryHost' is not allowed: every finding it covers is covered by the suppression of the rule on production\/App \(appliesTo 'TCP 587', reason /m);

    // Once the stack's suppression also covers a finding the machine's does not, it is used, and nothing is refused.
    EgressAllowlist.allowTcpPort(w, 2525, 'SMTP to the other relay');
    expect(synthErrors(wide)).toBe('');

    // Shadowed by two machines' suppressions, one at each finding: both are named.
    const two = checkedStack();
    const a = machine(two, 'A');
    const b = machine(two, 'B');
    for (const m of [a, b]) {
      EgressAllowlist.allowTcpPort(m, 587, 'SMTP to the mail relay');
      BoundarySuppressions.add(m, [{ id: 'Boundary-PortToEveryHost', reason: `${REASON} On ${m.node.id}.` }]);
    }
    BoundarySuppressions.add(two, [{ id: 'Boundary-PortToEveryHost', reason: REASON }]);
    expect(synthErrors(two)).toContain(`production.suppressions: 'Boundary-PortToEveryHost' is not allowed: every finding it covers is covered by suppressions of the rule on `
      + `production/A (every finding, reason '${REASON} On A.') and production/B (every finding, reason '${REASON} On B.'), the nearer ones, which apply there`);
  });

  test('appliesTo on a rule whose findings name nothing is refused at add; appliesTo: null from JavaScript is told as null, never read as every finding', () => {
    const m = machine(checkedStack());
    expect(() => BoundarySuppressions.add(m, [{ id: 'Boundary-RestrictedEgress', reason: REASON, appliesTo: ['TCP 587'] }]))
      .toThrow(/^production\/App\.suppressions: 'Boundary-RestrictedEgress' appliesTo 'TCP 587' is not allowed: Boundary-RestrictedEgress's findings name nothing appliesTo can match\. Fix: leave appliesTo out/);
    expect(() => BoundarySuppressions.add(m, [{ id: 'Boundary-PortToEveryHost', reason: REASON, appliesTo: null as any }]))
      .toThrow(/entries\[0\]\.appliesTo: null is not allowed: the property is optional, and null does not leave it out .*Fix: leave appliesTo out \(or undefined\), or list what it covers, such as \['TCP 587'\]; left out, the suppression covers every finding of the rule$/);
  });

  test('from plain JavaScript, allowTcpPortTo and allowTcpPort refuse a port or hosts of the wrong type, naming the path, the value and the fix', () => {
    const to = EgressAllowlist.allowTcpPortTo as (m: unknown, port: unknown, hosts: unknown, purpose: unknown) => void;
    const open = EgressAllowlist.allowTcpPort as (m: unknown, port: unknown, description: unknown) => void;
    const m = machine(checkedStack());
    expect(() => to(m, '587', ['smtp.acme.eu'], RELAY)).toThrow(/^production\/App\.egress\.port: '587' is not allowed: it is not a Port .*Fix: pass one TCP port, such as Port\.of\(587\)/);
    expect(() => to(m, 587, ['smtp.acme.eu'], RELAY)).toThrow(/^production\/App\.egress\.port: '?587'? is not allowed: .*Fix: pass one TCP port, such as Port\.of\(587\)/);
    // Each refusal of the call names the call (<path>.egress), not the declaration it makes.
    expect(() => to(m, Port.of(587), 'smtp.acme.eu', RELAY)).toThrow(/^production\/App\.egress\.hostnames: 'smtp\.acme\.eu' is not allowed: the hosts are a list\. Fix: name the hosts reached on it/);
    expect(() => to(m, Port.of(587), [], RELAY)).toThrow(/^production\/App\.egress\.hostnames: \[\] is not allowed: a port opened to no host .* Fix: name the hosts reached on it/);
    // Left out, the port was opened with no host declared on it: every allowlisted host reached it.
    expect(() => to(m, Port.of(587), undefined, RELAY)).toThrow(/^production\/App\.egress\.hostnames: .* is not allowed: a port opened to no host .* Fix: name the hosts reached on it/);
    expect(() => to(m, Port.of(587), null, RELAY)).toThrow(/^production\/App\.egress\.hostnames: .* is not allowed: a port opened to no host .* Fix: name the hosts reached on it/);
    expect(() => to(m, Port.range(587, 590), ['smtp.acme.eu'], RELAY)).toThrow(/^production\/App\.egress\.port: '587-590' is not allowed: .*one TCP port, and this is a range\. Fix: pass one port of it, such as Port\.of\(587\)/);
    expect(() => open(m, '587', 'SMTP')).toThrow(/^production\/App\.egress\.port: '587' is not allowed: a port is a whole number from 1 to 65535\. Fix: use a port such as 443, written as a number/);
    expect(m.egressRules.filter((r) => r.ports?.from === 587)).toEqual([]);
  });
});
