import { Lazy, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { Server } from '../../generated/providers/hcloud/server';
import { AiActRole, BoundaryPolicy, BoundarySuppressions, DataClass, DataFlow, EgressAllowlist, EgressForm, EgressHost, FirewallDirection, Port, Processor } from '../../lib';
import { allowlistFor } from '../../lib/boundary/private/egress-declarations';
import { warningsOf } from '../setup/stack';
import { checkedStack, jina, machine, mistral, policy, PUBLIC_ONLY, publicHost, synthErrors } from './fixtures';
import { expectRefused, refusal } from './refusal';

// What a caller can hand EgressAllowlist that it did not check: a second apply on the same machine,
// hostnames given as tokens (a Lazy, a variable), and JavaScript values TypeScript would have stopped.

const lazy = (value: unknown) => Lazy.stringValue({ produce: () => value as string });
const variable = (stack: TerraformStack, name = 'extra_host') => new TerraformVariable(stack, name, { type: 'string' });

function hostnamesFile(stack: TerraformStack): string {
  return JSON.stringify(JSON.parse(Testing.synth(stack)));
}

describe('EgressAllowlist.apply, twice on one machine', () => {
  test('the second call is refused by name, before it touches the machine', () => {
    const stack = checkedStack();
    const m = machine(stack);
    const rules = m.egressRules.length;
    const message = refusal(() => EgressAllowlist.apply(m, { policy, hostnames: [publicHost('registry.acme.eu')] }));
    expect(message).toMatch(/^production\/App\.egressAllowlist: 'EgressAllowlist\.apply' is not allowed: the allowlist is applied to this machine already.*Fix: call EgressAllowlist\.apply once per machine, with every extra host in its hostnames/);
    // Before, the firewall's outbound rules were added a second time, then the bundle refused its part's name.
    expect(m.egressRules).toHaveLength(rules);
    expect(m.egressRules.filter((r) => r.direction === FirewallDirection.OUT && r.description === 'DNS')).toHaveLength(1);
  });

  test('a first call refused for its options leaves the machine free for a correct one', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    refusal(() => EgressAllowlist.apply(m, { policy, timeServers: ['ntp://bad'] }));
    expect(() => EgressAllowlist.apply(m, { policy })).not.toThrow();
    expect(synthErrors(stack)).toBe('');
  });
});

describe('hostnames given as tokens', () => {
  test.each([
    ['a URL', 'https://evil.example.com/upload', /a hostname is a lowercase DNS name/],
    ['an IP address', '203.0.113.7', /an IP address is not a hostname/],
    ['a number', 42, /a hostname is text/],
  ])('a Lazy that produces %s is refused at synth like the literal', (_name, value, why) => {
    const message = expectRefused(() => {
      const stack = checkedStack();
      EgressAllowlist.apply(machine(stack, 'App', {}, false), { policy, hostnames: [publicHost('registry.acme.eu'), publicHost(lazy(value))] });
      return stack;
    }, why);
    expect(message).toMatch(/production\/App\.egressAllowlist\.hostnames\[1\]: .* is not allowed: .*\(the value was given as a token\)\. Fix: write only the host/);
  });

  test('a Lazy time server is held to the same format', () => {
    expectRefused(() => {
      const stack = checkedStack();
      EgressAllowlist.apply(machine(stack, 'App', {}, false), { policy, timeServers: [lazy('ntp://ntp1.hetzner.de')] });
      return stack;
    }, /production\/App\.egressAllowlist\.timeServers\[0\]: 'ntp:\/\/ntp1\.hetzner\.de' is not allowed/);
  });

  test('a Lazy destination a construct declares is held to the format too', () => {
    expectRefused(() => {
      const stack = checkedStack();
      EgressAllowlist.requireHostnames(machine(stack), [lazy('u1.your-storagebox.de:23')], 'backup target the nightly backups are written to');
      return stack;
    }, /production\/App\.egressHostnames\[0\]: 'u1\.your-storagebox\.de:23' is not allowed/);
  });

  test('a Lazy that produces a hostname passes, and reaches the host table', () => {
    const stack = checkedStack();
    EgressAllowlist.apply(machine(stack, 'App', {}, false), { policy, hostnames: [publicHost(lazy('registry.acme.eu'))] });
    expect(synthErrors(stack)).toBe('');
    expect(warningsOf(stack).filter((w) => w.startsWith('Egress-UncheckedHostname'))).toEqual([]);
    expect(hostnamesFile(stack)).toContain('registry.acme.eu');
  });

  test('a host only Terraform knows is accepted with a warning that says it is unchecked, once however often synth runs', () => {
    const stack = checkedStack();
    EgressAllowlist.apply(machine(stack, 'App', {}, false), { policy, hostnames: [publicHost(variable(stack).stringValue)] });
    expect(synthErrors(stack)).toBe('');
    Testing.synth(stack, true);
    const warnings = warningsOf(stack).filter((w) => w.startsWith('Egress-UncheckedHostname'));
    expect(warnings).toEqual([expect.stringMatching(
      /^Egress-UncheckedHostname: production\/App\.egressAllowlist\.hostnames\[0\] is `\$\{var\.extra_host\}`, known only at deploy, so synth cannot check that it is a hostname.*Fix: /)]);
  });

  test('a deploy-time destination declared with a purpose is not warned about (boundary.md names it with its purpose)', () => {
    const stack = checkedStack();
    EgressAllowlist.requireHostnames(machine(stack), [variable(stack).stringValue], 'backup target the nightly backups are written to');
    expect(synthErrors(stack)).toBe('');
    expect(warningsOf(stack).filter((w) => w.startsWith('Egress-UncheckedHostname'))).toEqual([]);
  });

  test.each([
    ['a processor', () => new Processor({ name: 'X', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: [lazy('api.x.fr')] }), /^Processor\(X\)\.hostnames\[0\]: /],
    ['the policy\'s extra hosts', () => new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [], extraEgressHostnames: [publicHost(lazy('registry.acme.eu'))] }), /^BoundaryPolicy\.extraEgressHostnames\[0\]: /],
  ])('%s must name its hosts as text: a token is refused saying so', (_name, build, where) => {
    const message = refusal(build);
    expect(message).toMatch(where);
    expect(message).toMatch(/'\$\{TfToken\[TOKEN\.\d+\]\}' \(a Terraform token: a Lazy value, a variable or an attribute, not known when this was checked\) is not allowed: the boundary policy is judged and published at synth, so it names its hosts as text/);
  });
});

describe('EgressAllowlist.apply, from plain JavaScript', () => {
  test.each([
    ['a misspelt hostnames', { policy, hostname: ['registry.acme.eu'] }, /production\/App\.egressAllowlist\.hostname: 'hostname' is not allowed: there is no property of this name.*did you mean 'hostnames'\?/],
    ['hostnames as one string', { policy, hostnames: 'registry.acme.eu' }, /production\/App\.egressAllowlist\.hostnames: 'registry\.acme\.eu' is not allowed: it is a string, not a list/],
    ['a null hostname', { policy, hostnames: [null] }, /production\/App\.egressAllowlist\.hostnames\[0\]: null is not allowed: it was not built by EgressHost\.publicOnly/],
    ['null options', null, /production\/App\.egressAllowlist\.props: missing/],
    ['a policy as a plain object', { policy: { processors: [], extraEgressHostnames: [] } }, /production\/App\.egressAllowlist\.policy: .* is not allowed/],
  ])('%s is refused by name', (_name, options, message) => {
    const stack = checkedStack();
    expect(refusal(() => EgressAllowlist.apply(machine(stack, 'App', {}, false), options as any))).toMatch(message);
  });

  test.each([
    // Each was a TypeError ("Cannot read properties of null"), or a fix that does not work where one port is asked for.
    ['hostnamesFor without options', (s: TerraformStack) => EgressAllowlist.hostnamesFor(machine(s), null as any), /^production\/App\.egressAllowlist\.props: missing/],
    ['hostnamesFor with a plain-object policy', (s: TerraformStack) => EgressAllowlist.hostnamesFor(machine(s), { policy: {} } as any), /^production\/App\.egressAllowlist\.policy: /],
    ['requireHostnames with its port as text', (s: TerraformStack) => EgressAllowlist.requireHostnames(machine(s), ['a.example.eu'], 'webhook receiver the app posts events to', '443' as any),
      /^production\/App\.egressHostnames\[0\]\.port: '443' is not allowed: the destination a\.example\.eu is reached on a TCP port, a whole number from 1 to 65535\. Fix: pass one TCP port, such as Port\.of\(443\)$/],
  ])('%s is refused by name', (_name, call, message) => {
    expect(refusal(() => call(checkedStack()))).toMatch(message);
  });

  test('a second apply from JavaScript with other options is refused the same way', () => {
    const stack = checkedStack();
    const m = machine(stack);
    expect(refusal(() => EgressAllowlist.apply(m, { policy: new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [] }) } as any)))
      .toMatch(/^production\/App\.egressAllowlist: 'EgressAllowlist\.apply' is not allowed/);
  });
});

// Audit, second pass: an extra egress host (the policy's extraEgressHostnames, EgressAllowlist.apply's hostnames) was a
// bare string with "no purpose given": any host opened, a US model API included, and synth judged none of them.
describe('an extra egress host says what it is for, and synth judges it', () => {
  const acmeModels = new Processor({ name: 'Acme Models', legalSeat: { city: 'Lyon', country: 'FR' }, hostnames: ['api.acme-models.eu'] });
  const policyWith = (extra: unknown[], to: Processor[] = []) => new BoundaryPolicy({
    aiActRoles: [AiActRole.DEPLOYER], egress: to.length > 0 ? [{ dataClass: DataClass.PUBLIC, to, form: EgressForm.RAW }] : [], extraEgressHostnames: extra as EgressHost[],
  });
  const applyTo = (extra: unknown[]) => EgressAllowlist.apply(machine(checkedStack(), 'App', {}, false), { policy, hostnames: extra as EgressHost[] });

  test.each([
    ['the policy', policyWith, /^BoundaryPolicy\.extraEgressHostnames\[0\]: /],
    ['EgressAllowlist.apply', applyTo, /^production\/App\.egressAllowlist\.hostnames\[0\]: /],
  ])('a bare string given to %s from plain JavaScript is refused, naming the host and how to write it', (_where, build, at) => {
    for (const host of ['registry.acme.eu', 'api.openai.com']) {
      const message = refusal(() => build([host]));
      expect(message).toMatch(at);
      expect(message).toContain(`'${host}' is not allowed: an extra egress host given as bare text says neither what it is for nor what it receives`);
      expect(message).toContain(`Fix: write EgressHost.publicOnly('${host}', { reason: '…' }) for a host that receives nothing beyond public data`);
    }
    // Audit (secrets11): the value was redacted, but its fix wrote it out again, a webhook URL's token included.
    const webhook = 'https://hooks.slack.com/services/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';
    const message = refusal(() => build([webhook]));
    expect(message).toContain("Fix: write EgressHost.publicOnly('https://hooks.slack.com/<redacted>'");
    expect(message).not.toContain('Xq9wZr3TnV8kLmP2sDc4BfHj');
  });

  test.each([
    ['api.openai.com', 'OpenAI'], ['eu.api.openai.com', 'OpenAI'], ['api.anthropic.com', 'Anthropic'],
    ['generativelanguage.googleapis.com', 'Google (Gemini API)'], ['europe-west4-aiplatform.googleapis.com', 'Google (Vertex AI)'],
    ['bedrock-runtime.eu-central-1.amazonaws.com', 'Amazon Bedrock'],
    // Second pass: providers the list missed.
    ['acme-ai.services.ai.azure.com', 'Azure AI Foundry (Microsoft)'], ['acme-ai.cognitiveservices.azure.com', 'Azure AI Foundry (Microsoft)'],
    ['models.inference.ai.azure.com', 'Azure AI Foundry (Microsoft)'], ['acme.openai.azure.com', 'Azure OpenAI (Microsoft)'],
    ['x1y2z3.eu-west-1.aws.endpoints.huggingface.cloud', 'Hugging Face (Inference Endpoints)'], ['api-inference.huggingface.co', 'Hugging Face (inference)'],
    ['api.replicate.com', 'Replicate'], ['api.voyageai.com', 'Voyage AI'], ['api.ai21.com', 'AI21 Labs'], ['api.cerebras.ai', 'Cerebras'],
    ['integrate.api.nvidia.com', 'NVIDIA (API catalog)'], ['dashscope.aliyuncs.com', 'Alibaba Cloud (DashScope)'], ['dashscope-intl.aliyuncs.com', 'Alibaba Cloud (DashScope)'],
  ])('%s, a model provider\'s API, is refused as a public-only extra host in the policy and in apply', (host, provider) => {
    const why = `'${host}' is not allowed: it is the API of ${provider}, a model provider: what a machine sends it is a data flow to a processor`;
    const fix = `Fix: declare ${provider} as a Processor with its EU legal seat in the policy's egress`;
    for (const [build, at] of [[() => policyWith([publicHost(host)]), 'BoundaryPolicy.extraEgressHostnames[0]: '],
      [() => applyTo([publicHost('registry.acme.eu'), publicHost(host)]), 'production/App.egressAllowlist.hostnames[1]: ']] as const) {
      const message = refusal(build);
      expect(message.startsWith(at + why)).toBe(true);
      expect(message).toContain(fix);
    }
  });

  test('a declared processor\'s API is refused as an extra host: in the policy that names it, in apply, and (at synth) when only a flow names it', () => {
    const fix = /Fix: remove it from the extra hosts: the allowlist lets through every processor the policy allows, and a workload declares what it sends with DataFlow\.declare/;
    expect(refusal(() => policyWith([publicHost('api.acme-models.eu')], [acmeModels])))
      .toMatch(new RegExp(`^BoundaryPolicy\\.extraEgressHostnames\\[0\\]: 'api\\.acme-models\\.eu' is not allowed: it is the API of the declared processor Acme Models \\(Lyon, FR\\).*${fix.source}`));
    const withAcme = policyWith([], [acmeModels]);
    expect(refusal(() => EgressAllowlist.apply(machine(checkedStack(), 'App', {}, false), { policy: withAcme, hostnames: [publicHost('api.acme-models.eu')] })))
      .toMatch(/^production\/App\.egressAllowlist\.hostnames\[0\]: 'api\.acme-models\.eu' is not allowed: it is the API of the declared processor Acme Models/);
    // The policy does not name it; a flow of the stack does (Boundary-ProcessorAllowed refuses the flow too).
    expectRefused(() => {
      const stack = checkedStack();
      const m = machine(stack, 'App', {}, false);
      EgressAllowlist.apply(m, { policy, hostnames: [publicHost('api.acme-models.eu')] });
      DataFlow.declare(m, { processor: acmeModels, dataClass: DataClass.PUBLIC, form: EgressForm.RAW });
      return stack;
    }, /production\/App\.egressAllowlist\.hostnames\[0\]: 'api\.acme-models\.eu' is not allowed: it is the API of the declared processor Acme Models \(Lyon, FR\)/);
  });

  test('a Lazy that resolves to a model provider\'s API is refused at synth', () => {
    expectRefused(() => {
      const stack = checkedStack();
      EgressAllowlist.apply(machine(stack, 'App', {}, false), { policy, hostnames: [publicHost(lazy('api.anthropic.com'))] });
      return stack;
    }, /production\/App\.egressAllowlist\.hostnames\[0\]: 'api\.anthropic\.com' is not allowed: it is the API of Anthropic/);
  });

  test('a model provider\'s API declared as a destination is refused at synth under the machine\'s egressHostnames[i], the host alone', () => {
    expectRefused(() => {
      const stack = checkedStack();
      const m = machine(stack);
      EgressAllowlist.requireHostnames(m, ['u1.your-storagebox.de'], 'backup target the nightly backups are written to', 23);
      EgressAllowlist.requireHostnames(m, ['generativelanguage.googleapis.com'], 'model fallback the app asks when Mistral is down');
      return stack;
    }, /^production\/App\.egressHostnames\[1\]: 'generativelanguage\.googleapis\.com' is not allowed: it is declared as the model fallback the app asks when Mistral is down, but is the API of Google \(Gemini API\), a model provider/m);
  });

  test('a policy processor\'s API declared as a destination is refused at synth unless the stack declares a flow to it', () => {
    expectRefused(() => {
      const stack = checkedStack();
      EgressAllowlist.requireHostnames(machine(stack), ['api.mistral.ai'], 'chat completions the app requests for users');
      return stack;
    }, /^production\/App\.egressHostnames\[0\]: 'api\.mistral\.ai' is not allowed: it is declared as the chat completions the app requests for users, but is the API of the declared processor Mistral AI .*Fix: do not declare it with EgressAllowlist\.requireHostnames/m);
    const stack = checkedStack();
    const m = machine(stack);
    EgressAllowlist.requireHostnames(m, ['api.mistral.ai'], 'chat completions the app requests for users');
    DataFlow.declare(m, { processor: mistral, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED, purpose: 'chat completions' });
    expect(synthErrors(stack)).toBe('');
  });

  test.each([
    ['empty', ''],
    ['vague', 'alerts'],
    ['a repeated word', 'host host host host host host'],
    ['not text, from JavaScript', 42],
  ])('a destination\'s purpose that is %s is refused: it is published in boundary.md', (_what, purpose) => {
    const stack = checkedStack();
    expect(() => EgressAllowlist.requireHostnames(machine(stack), ['status.acme.eu'], purpose as any))
      .toThrow(/^production\/App\.egressHostnames\[0\]\.purpose: .* is not allowed: the destination status\.acme\.eu needs a specific purpose/);
  });

  // Third pass: the refusals of a purpose and a port named the call (`production/App.egressHostnames.purpose`), not the
  // host: with several constructs declaring destinations on one machine, nothing said which one was wrong.
  test('a bad purpose or port names the host and its place among the machine\'s destinations', () => {
    const m = machine(checkedStack());
    EgressAllowlist.requireHostnames(m, ['status.acme.eu'], 'status page the app posts its incidents to', Port.of(8443));
    expect(() => EgressAllowlist.requireHostnames(m, ['u1.your-storagebox.de', 'u2.your-storagebox.de'], 'backups'))
      .toThrow(/^production\/App\.egressHostnames\[1\.\.2\]\.purpose: 'backups' is not allowed: the destination u1\.your-storagebox\.de, u2\.your-storagebox\.de needs a specific purpose/);
    expect(() => EgressAllowlist.requireHostnames(m, ['u1.your-storagebox.de'], 'backup target the nightly backups are written to', Port.range(22, 23)))
      .toThrow(/^production\/App\.egressHostnames\[1\]\.port: '22-23' is not allowed: the destination u1\.your-storagebox\.de is reached on one TCP port/);
    // A Port is what it takes; a number still works (deprecated), the default is 443.
    EgressAllowlist.requireHostnames(m, ['u1.your-storagebox.de'], 'backup target the nightly backups are written to', Port.of(23));
    EgressAllowlist.requireHostnames(m, ['hooks.acme.eu'], 'webhook receiver the app posts events to', 8080);
    EgressAllowlist.requireHostnames(m, ['ping.acme.eu'], 'heartbeat the app pings after each import');
    expect(EgressAllowlist.requiredDestinations(m).map((d) => `${d.hostname}:${d.port}`))
      .toEqual(['status.acme.eu:8443', 'u1.your-storagebox.de:23', 'hooks.acme.eu:8080', 'ping.acme.eu:443']);
  });

  test.each([
    ['no reason', () => EgressHost.publicOnly('pypi.org', {} as any), /^EgressHost\(pypi\.org\)\.reason: undefined is not allowed: an extra host needs a specific reason/],
    ['a placeholder reason', () => EgressHost.publicOnly('pypi.org', { reason: 'TODO TODO TODO TODO TODO' }), /^EgressHost\(pypi\.org\)\.reason: 'TODO TODO TODO TODO TODO' is not allowed/],
    ['no options, from JavaScript', () => (EgressHost.publicOnly as any)('pypi.org'), /^EgressHost\(pypi\.org\)\.props: missing/],
    ['a URL', () => EgressHost.publicOnly('https://pypi.org/simple', { reason: PUBLIC_ONLY }), /^EgressHost\(https:\/\/pypi\.org\/simple\)\.hostname: 'https:\/\/pypi\.org\/simple' is not allowed: a hostname is a lowercase DNS name/],
    // The machine itself is no host reached off it (a URL's host may be localhost, a stand-in on loopback; a literal not).
    ['localhost', () => EgressHost.publicOnly('localhost', { reason: PUBLIC_ONLY }), /^EgressHost\(localhost\)\.hostname: 'localhost' is not allowed: a hostname is a lowercase DNS name of at least two labels/],
    ['a processor on localhost', () => new Processor({ name: 'Local AI', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['localhost'] }),
      /^Processor\(Local AI\)\.hostnames\[0\]: 'localhost' is not allowed: a hostname is a lowercase DNS name of at least two labels, .*without a trailing dot or a port/],
    ['a look-alike object, in the policy', () => policyWith([{ hostname: 'pypi.org', reason: PUBLIC_ONLY }]),
      /^BoundaryPolicy\.extraEgressHostnames\[0\]: .* is not allowed: it was not built by EgressHost\.publicOnly/],
    ['a look-alike object, in apply', () => applyTo([Object.freeze(Object.assign(Object.create(EgressHost.prototype), { hostname: 'pypi.org', reason: PUBLIC_ONLY }))]),
      /^production\/App\.egressAllowlist\.hostnames\[0\]: .* is not allowed: it was not built by EgressHost\.publicOnly/],
  ])('%s is refused with path, value and fix', (_name, build, message) => {
    expect(refusal(build)).toMatch(message);
  });

  test('a public-only host with its reason passes, frozen, and reaches the host table', () => {
    const host = publicHost('pypi.org');
    expect(Object.isFrozen(host)).toBe(true);
    expect(() => { (host as any).hostname = 'api.openai.com'; }).toThrow(TypeError);
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    EgressAllowlist.apply(m, { policy, hostnames: [host] });
    expect(synthErrors(stack)).toBe('');
    expect(allowlistFor(m.server)!.hostnames()).toContain('pypi.org');
  });
});

// Third pass: a self-hosted proxy in front of a US provider passed when its machine was declared public: no allowlist
// narrows a public machine's egress, and the private network carries to it whatever the sensitive machines send. Synth
// cannot see what the proxy forwards, but it sees the provider's API named in what the machine runs.
describe('a machine without an allowlist set up to reach a model provider the policy does not name', () => {
  const proxy = (stack: TerraformStack) => machine(stack, 'Proxy', { role: 'llm-proxy', dataClasses: [DataClass.PUBLIC] }, false);

  test('is refused when a bundle file names the provider\'s API, naming the machine, the host, the file and the fix', () => {
    const stack = checkedStack();
    proxy(stack).addBundlePart({ name: 'llm proxy', files: [{ path: '/etc/llm-proxy/env', content: 'UPSTREAM=https://api.openai.com/v1\nMODEL=gpt-4o\n' }] });
    expect(synthErrors(stack)).toMatch(/Boundary-ProcessorAllowed: production\/Proxy: 'api\.openai\.com' \(in its bundle file \/etc\/llm-proxy\/env\) is not allowed: it is the API of OpenAI, a model provider the policy does not name as a processor, and the machine is declared to hold only public data, so no host allowlist narrows its egress.* Fix: send model requests to a processor the policy names/);
  });

  test('and when its user data (a raw server beside it too) or a destination declared for it names one; from plain JavaScript alike', () => {
    const stack = checkedStack();
    const m = proxy(stack);
    (EgressAllowlist.requireHostnames as any)(m, ['api.anthropic.com'], 'upstream the proxy forwards completions to', 443);
    m.addCloudInitPart({ name: 'proxy env', files: [{ path: '/etc/proxy/fallback.env', content: 'FALLBACK=https://api.groq.com/openai/v1\n' }] });
    const raw = new Server(stack, 'Gateway', { name: 'gateway', serverType: 'cx33', image: 'debian-12', location: 'fsn1', userData: '#cloud-config\nwrite_files:\n- path: /etc/gw\n  content: "https://acme.openai.azure.com/openai"\n' });
    DataClass.declare(raw, [DataClass.PUBLIC]);
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\/Proxy: 'api\.anthropic\.com' \(in its declared destination, the upstream the proxy forwards completions to\) is not allowed: it is the API of Anthropic/);
    expect(errors).toMatch(/production\/Gateway: 'acme\.openai\.azure\.com' \(in its user data\) is not allowed: it is the API of Azure OpenAI \(Microsoft\)/);
    expect(errors).toMatch(/production\/Proxy: 'api\.groq\.com' \(in its user data\) is not allowed: it is the API of Groq/);
  });

  test('passes for a processor the policy names, an uptime probe, a machine with the allowlist, or a finding suppressed with a reason', () => {
    const stack = checkedStack();
    const m = proxy(stack);
    m.addBundlePart({ name: 'llm proxy', files: [{ path: '/etc/llm-proxy/env', content: 'UPSTREAM=https://api.mistral.ai/v1\n# keys: https://console.mistral.ai/api-keys\n' }] });
    EgressAllowlist.requireProbeTargets(m, ['api.openai.com'], 'status of the provider the team compares against');
    const blocked = machine(stack, 'Filter', { role: 'filter' }, true);
    blocked.addBundlePart({ name: 'filter', files: [{ path: '/etc/filter/blocked', content: 'api.openai.com\n' }] });
    const docs = machine(stack, 'Docs', { role: 'docs', dataClasses: [DataClass.PUBLIC] }, false);
    docs.addBundlePart({ name: 'docs', files: [{ path: '/srv/docs/README', content: 'We never call api.openai.com.\n' }] });
    BoundarySuppressions.add(docs.server, [{ id: 'Boundary-ProcessorAllowed', reason: 'The documentation only names the provider the product does not use' }]);
    expect(synthErrors(stack)).toBe('');
  });

  // A policy naming one region's or customer's endpoint passed every host of that provider: another customer's Azure
  // resource in the US, Bedrock in us-east-1, OpenAI's US endpoint beside its EU one.
  test('a policy naming one region\'s or customer\'s endpoint passes that endpoint only', () => {
    const seat = (name: string, hostname: string, city: string, country: string) => new Processor({ name, legalSeat: { city, country }, hostnames: [hostname] });
    const eu = new BoundaryPolicy({
      aiActRoles: [AiActRole.DEPLOYER],
      egress: [{
        dataClass: DataClass.PUBLIC, form: EgressForm.RAW,
        to: [mistral, seat('Azure OpenAI (Sweden Central)', 'acme-swe.openai.azure.com', 'Dublin', 'IE'),
          seat('Amazon Bedrock (Frankfurt)', 'bedrock-runtime.eu-central-1.amazonaws.com', 'Luxembourg', 'LU'), seat('OpenAI (EU residency)', 'eu.api.openai.com', 'Dublin', 'IE')],
      }],
    });
    const stack = checkedStack('production', undefined, true, eu);
    proxy(stack).addBundlePart({ name: 'llm proxy', files: [{ path: '/etc/llm-proxy/config.yaml', content: [
      'api_base: https://acme-swe.openai.azure.com/openai', 'api_base: https://someone-eastus.openai.azure.com/openai',
      'aws_endpoint: https://bedrock-runtime.eu-central-1.amazonaws.com', 'aws_endpoint: https://bedrock-runtime.us-east-1.amazonaws.com',
      'api_base: https://eu.api.openai.com/v1', 'api_base: https://api.openai.com/v1', 'api_base: https://codestral.mistral.ai/v1', ''].join('\n') }] });
    const errors = synthErrors(stack);
    const refused = [...errors.matchAll(/production\/Proxy: '([^']+)'/g)].map((m) => m[1]).sort();
    expect(refused).toEqual(['api.openai.com', 'bedrock-runtime.us-east-1.amazonaws.com', 'someone-eastus.openai.azure.com']);
  });

  // The text scan read whole company domains, so a public web server's robots.txt or about page failed synth.
  test('a mention of a provider\'s site, docs or e-mail passes; its API hosts, in URLs with or without credentials, do not', () => {
    const stack = checkedStack();
    const web = machine(stack, 'Web', { role: 'web', dataClasses: [DataClass.PUBLIC] }, false);
    web.addBundlePart({ name: 'site', files: [
      { path: '/srv/www/robots.txt', content: '# see https://platform.openai.com/docs/bots\nUser-agent: GPTBot\nDisallow: /\n' },
      { path: '/srv/www/about.html', content: '<p>We compared claude.ai and read cohere.ai/blog. Press: press@anthropic.com, support@openrouter.ai</p>\n' },
    ] });
    expect(synthErrors(stack)).toBe('');
    proxy(stack).addBundlePart({ name: 'llm proxy', files: [{ path: '/etc/llm-proxy/env', content: 'A=https://api.cohere.com/v2/chat\nB=https://user:key@openrouter.ai/api/v1\n' }] });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\/Proxy: 'api\.cohere\.com' \(in its bundle file \/etc\/llm-proxy\/env\) is not allowed: it is the API of Cohere/);
    expect(errors).toMatch(/production\/Proxy: 'openrouter\.ai' \(in its bundle file \/etc\/llm-proxy\/env\) is not allowed: it is the API of OpenRouter/);
    expect(errors).not.toMatch(/production\/Web/);
  });

  // The suppression the refusal suggested, on the machine, accepted every Boundary-ProcessorAllowed finding below it:
  // a refused DataFlow of the same machine vanished with the mention it was meant for.
  test('the suggested suppression, on the machine\'s server, keeps a refused DataFlow of the machine', () => {
    const stack = checkedStack();
    const docs = machine(stack, 'Docs', { role: 'docs', dataClasses: [DataClass.PUBLIC, DataClass.PSEUDONYMIZED] }, false);
    docs.addBundlePart({ name: 'docs', files: [{ path: '/srv/docs/README', content: 'We never call api.openai.com.\n' }] });
    DataFlow.declare(docs, { processor: jina, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED, purpose: 'scrubbed queries' });
    const suggested = synthErrors(stack).match(/BoundarySuppressions\.add\((machine[.a-z]*),/);
    expect(suggested?.[1]).toBe('machine.server');
    BoundarySuppressions.add(docs.server, [{ id: 'Boundary-ProcessorAllowed', reason: 'The documentation only names the provider the product does not use' }]);
    const errors = synthErrors(stack);
    expect(errors).not.toMatch(/api\.openai\.com/);
    expect(errors).toMatch(/Boundary-ProcessorAllowed: production\/Docs\.dataFlow: 'pseudonymized → Jina AI \(pseudonymized\)' is not allowed/);
  });
});
