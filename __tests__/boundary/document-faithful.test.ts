import { Testing } from 'cdktf';
import { BoundarySuppressions, DataClass } from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { checkedStack, machine, policy } from './fixtures';

/** The lines of one `## ` section of boundary.md. */
function section(doc: string, title: string): string[] {
  const found = doc.split(/^## /m).find((s) => s.startsWith(`${title}\n`));
  if (!found) throw new Error(`no section ${title} in:\n${doc}`);
  return found.split('\n').slice(1).filter((l) => l.trim() !== '');
}

describe('red team: boundary.md shows what the stacks hold and suppress, whatever text they carry', () => {
  // A reason written as a multi-line string (or with a pipe, or an HTML comment) broke its table row:
  // the row's rest became a loose paragraph, or everything after `<!--` vanished from the rendered page.
  test('a suppression reason with newlines, pipes or markup stays in its own row, visible', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    BoundarySuppressions.add(m, [{
      id: 'Boundary-RestrictedEgress',
      reason: 'Temporary until the proxy lands | owner ops\n\nNone: every rule applies everywhere.\n<!-- hidden',
    }]);
    Testing.synth(stack, true);
    const doc = boundaryDocument({ title: 'acme', policy, stacks: [stack] });
    const rows = section(doc, 'Suppressions');
    expect(rows).toHaveLength(3); // header, separator, one row
    expect(rows[2]).toMatch(/^\| Boundary-RestrictedEgress \| production\/App \| Temporary until the proxy lands \\\| owner ops None: every rule applies everywhere\. &lt;!-- hidden \|$/);
    expect(doc).not.toContain('<!--');
  });

  // The "lives in" table read only the data labels; a machine's declared classes (which every rule
  // reads) did not show when an override replaced its labels.
  test('a machine whose data label an override changed still shows where its sensitive data lives', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', { dataClasses: [DataClass.SECRET] });
    m.server.addOverride('labels.data-secret', 'false');
    m.server.addOverride('labels.data-class', 'public');
    Testing.synth(stack, true);
    const doc = boundaryDocument({ title: 'acme', policy, stacks: [stack] });
    const secretRow = section(doc, 'Data classes and where they live').find((l) => l.startsWith('| secret |'));
    expect(secretRow).toMatch(/production: hcloud_server /);
  });

  // What synth cannot enforce is said, so nobody reads the allowlist as a guarantee it is not.
  test('lists the limits synth cannot enforce: relays on the private network, DNS tunnelling through the resolvers, root on the machine', () => {
    const stack = checkedStack();
    machine(stack);
    Testing.synth(stack, true);
    const declared = boundaryDocument({ title: 'acme', policy, stacks: [stack] }).split('Declared, not enforced by the infrastructure:')[1].split('\n## ')[0];
    expect(declared).toMatch(/one acting as a gateway .* can pass it on unchecked/);
    // DNS and NTP no longer go to any address; what is left is tunnelling through the resolvers.
    expect(declared).not.toMatch(/go to any address/);
    expect(declared).toMatch(/DNS \(53\) reaches only the resolvers the machine is configured with and NTP \(123\/udp\) only its time servers, but a recursive resolver looks up any name/);
    expect(declared).toMatch(/encode data in the names it queries/);
    expect(declared).toMatch(/What runs as root on a machine .* can change or remove the host allowlist/);
    expect(declared).toMatch(/a wildcard DNS service/);
    expect(declared).toMatch(/not that the hostnames belong to that company/);
  });
});
