import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformVariable } from 'cdktf';
import {
  AiActRole, AlertReceiver, BoundaryPolicy, DataClass, DataFlow, DeadMansSwitch, EgressAllowlist, EgressForm, Environment, MonitoringPlan,
  Phase, Processor, Product, RestoreCheck, UptimeCheck,
} from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { ProductStacks } from '../../stacks';
import { checkedStack, machine, policy, PUBLIC_ONLY, publicHost } from './fixtures';

/** The rows of the allowlist table under a machine's heading in boundary.md, as hostname -> why. */
/** The allowlist table of `machinePath` in `doc`: each host with why it is allowed (with `ports`, with its TCP ports instead). */
function allowlistOf(doc: string, machinePath: string, ports = false): Map<string, string> {
  const section = doc.split(/^### /m).find((s) => s.startsWith(`${machinePath} (`));
  if (!section) throw new Error(`no allowlist section for ${machinePath} in:\n${doc}`);
  const rows = section.split('\n## ')[0].split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| hostname |'));
  return new Map(rows.map((l) => l.slice(2, -2).split(' | ')).map(([host, tcp, why]) => [host, ports ? tcp : why]));
}

describe('the boundary document lists what sensitive machines may reach', () => {
  // audit 06: hosts outside the declared processors reached the allowlist without appearing in boundary.md.
  test('every allowlisted hostname of a product\'s sensitive machines, with its origin', () => {
    const boundary = new BoundaryPolicy({
      aiActRoles: [AiActRole.DEPLOYER],
      egress: [{ dataClass: DataClass.PSEUDONYMIZED, to: [Processor.mistralAi()], form: EgressForm.PSEUDONYMIZED }],
      extraEgressHostnames: [publicHost('registry.acme.eu')],
    });
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'boundary-doc-')) });
    const stacks = new ProductStacks(app, new Product({
      name: 'acme', phase: Phase.ONE, stateBucket: 'acme-tfstate', boundary,
      admin: { sshPublicKeys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' }, cidrs: ['203.0.113.0/24'] },
      backup: { restoreChecks: [RestoreCheck.sql('tenants', { database: 'app', query: 'SELECT count(*) > 0 FROM tenants' })] },
      monitoring: new MonitoringPlan({
        uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health')],
        receivers: [AlertReceiver.webhook('ops', { hostname: 'hooks.slack.com' })],
        deadMansSwitch: DeadMansSwitch.healthchecksIo(),
      }),
    }));
    const appMachine = stacks.production.app;
    EgressAllowlist.requireHostnames(appMachine, ['status.acme.eu'], 'status page updates the app posts incidents to');
    app.synth();
    const doc = fs.readFileSync(path.join(app.outdir, 'products', 'acme', 'boundary.md'), 'utf8');

    const listed = allowlistOf(doc, appMachine.node.path);
    // Nothing on the host table is missing from the document.
    expect([...listed.keys()].filter((h) => !h.endsWith('(known at deploy)')))
      .toEqual(EgressAllowlist.hostnamesFor(appMachine, { policy: boundary }).filter((h) => !h.includes('${')));
    // Audit, second pass: an extra host was published as "no purpose given"; it carries its reason now.
    expect(listed.get('registry.acme.eu')).toBe(`extra host from the policy's extraEgressHostnames, public data only: ${PUBLIC_ONLY}`);
    expect(listed.get('hooks.slack.com')).toBe('alert receiver ops that Alertmanager notifies (declared for TCP 443)');
    expect(listed.get('status.acme.eu')).toBe('status page updates the app posts incidents to (declared for TCP 443)');
    expect(listed.get('deb.debian.org')).toBe('Debian mirror');
    // Hetzner's images name Hetzner's mirror in their apt sources: without it, apt under the allowlist may find no source.
    expect(listed.get('mirror.hetzner.com')).toBe("Hetzner's Debian mirror (Hetzner's images use it)");
    expect(listed.get('api.mistral.ai')).toBe('declared processor Mistral AI (Paris, FR)');
    // Each host on its own ports, as the host table allows it: a declared destination on its own port alone.
    const ports = allowlistOf(doc, 'acme-production/App', true);
    expect({ mirror: ports.get('deb.debian.org'), processor: ports.get('api.mistral.ai'), receiver: ports.get('hooks.slack.com') }).toEqual({ mirror: '80, 443', processor: '80, 443', receiver: '443' });
    expect([...ports].find(([h]) => h.endsWith('(known at deploy)'))?.[1]).toBe('23');
    // The Storage Box's host is known at deploy: shown as the expression that gives it.
    expect([...listed].find(([h]) => h.endsWith('(known at deploy)'))?.[1]).toMatch(/^backup target/);
    expect(doc).toMatch(/^### acme-production\/App \(secret\)\n\nDNS \(53, UDP and TCP\) to: the resolvers the machine is configured with[^\n]*\n\nNTP \(123\/udp\) to: ntp1\.hetzner\.de, ntp2\.hetzner\.com, ntp3\.hetzner\.net \(systemd-timesyncd is pinned to them\)\.\n\nTCP 23, 80, 443 out, narrowed to these hosts, each on its own ports:/m);
  });

  test('names hosts given to EgressAllowlist.apply as extras with their reason, and a sensitive machine left without an allowlist', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    EgressAllowlist.apply(m, { policy, hostnames: [publicHost('registry.acme.eu'), publicHost('deb.debian.org')] });
    const bucket = new TerraformVariable(stack, 'bucket_host', { type: 'string' });
    EgressAllowlist.requireHostnames(m, [bucket.stringValue], 'offsite backup target the nightly backups go to', 443);
    machine(stack, 'Worker', { dataClasses: [DataClass.SECRET] }, false);
    machine(stack, 'Web', { dataClasses: [DataClass.PUBLIC] }, false);
    const doc = boundaryDocument({ title: 'acme', policy, stacks: [stack] });

    // The time servers the host lets NTP reach are the ones the document names.
    expect(doc).toMatch(/^### production\/App \(sensitive\)\n\nDNS \(53, UDP and TCP\) to: [^\n]*\n\nNTP \(123\/udp\) to: ntp1\.hetzner\.de, ntp2\.hetzner\.com, ntp3\.hetzner\.net /m);
    const listed = allowlistOf(doc, 'production/App');
    expect(listed.get('registry.acme.eu')).toBe(`extra host from EgressAllowlist.apply, public data only: ${PUBLIC_ONLY}`);
    expect(listed.get('deb.debian.org')).toBe(`Debian mirror; extra host from EgressAllowlist.apply, public data only: ${PUBLIC_ONLY}`);
    expect(listed.get('`${var.bucket_host}` (known at deploy)')).toBe('offsite backup target the nightly backups go to (declared for TCP 443)');
    expect(doc).toMatch(/^### production\/Worker\/Resource \(secret\)\n\n\*\*No host allowlist\*\*/m);
    expect(doc).not.toMatch(/^### production\/Web/m);
  });

  // Audit, second pass: a DataFlow's purpose was checked and kept, but boundary.md's flow table never showed it.
  test('the declared data flows table publishes each flow\'s purpose', () => {
    const stack = checkedStack();
    const m = machine(stack);
    DataFlow.declare(m, { processor: Processor.mistralAi(), dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED, purpose: 'drafting answers | from scrubbed tickets' });
    DataFlow.declare(m, { processor: Processor.jinaAi(), dataClass: DataClass.PUBLIC, form: EgressForm.RAW });
    const doc = boundaryDocument({ title: 'acme', policy, stacks: [stack] });
    const flows = doc.slice(doc.indexOf('## Declared data flows'), doc.indexOf('## Where machines'));
    expect(flows).toContain('| workload | class | processor | form | purpose | allowed by the policy |');
    expect(flows).toContain('| production/App | pseudonymized | Mistral AI | pseudonymized | drafting answers \\| from scrubbed tickets | yes |');
    expect(flows).toContain('| production/App | public | Jina AI | raw | - | yes |');
  });
});
