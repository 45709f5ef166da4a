import { Testing } from 'cdktf';
import { BoundarySuppressions, Environment, Phase, Product, StagingMode, StagingSuppressions, ValidationError } from '../../lib';
import { EnvironmentStack } from '../../stacks';
import { ManagedCertificate } from '../../generated/providers/hcloud/managed-certificate';
import { Zone } from '../../generated/providers/hcloud/zone';
import { policy } from '../boundary/fixtures';
import { admin, backup, monitoring } from '../setup/product-basics';
import { warningsOf } from '../setup/stack';

// Staging-NotReaped could not be accepted: a staging stack that keeps a certificate on purpose warned on every synth,
// with nothing to record why it may outlive a rehearsal that dies before its destroy.
describe('StagingSuppressions: Staging-NotReaped accepted with a reason', () => {
  const product = () => new Product({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring, staging: StagingMode.fromProductionSnapshot() });
  const staging = (environment = Environment.STAGING) => new EnvironmentStack(Testing.app(), `acme-${environment.name}`, { product: product(), environment, expiresAt: '2026-12-31' });
  const certificate = (stack: EnvironmentStack) => new ManagedCertificate(stack, 'Cert', { name: 'acme-staging-cert', domainNames: ['staging.example.com'] });
  const REASON = 'the certificate is free and Let us Encrypt limits how often staging may ask for a new one';
  const infosOf = (stack: EnvironmentStack) => stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/info').map((m) => String(m.data));
  const synthError = (stack: EnvironmentStack) => { try { Testing.synth(stack, true); } catch (e) { return (e as Error).message; } return ''; };

  test('on the resource: no warning, an info that records the reason and where it was accepted; the resource is still labelled', () => {
    const stack = staging();
    StagingSuppressions.add(certificate(stack), [{ id: 'Staging-NotReaped', reason: REASON }]);
    const json = JSON.parse(Testing.synth(stack, true));
    expect(warningsOf(stack).filter((w) => w.includes('Staging-NotReaped'))).toEqual([]);
    expect(infosOf(stack)).toEqual([expect.stringMatching(new RegExp(`^Staging-NotReaped \\(accepted at acme-staging/Cert, reason '${REASON}'\\): acme-staging/Cert is a hcloud_managed_certificate, which the staging reaper does not remove`))]);
    expect(Object.values<any>(json.resource.hcloud_managed_certificate)[0].labels).toMatchObject({ environment: 'staging', lifecycle: 'on-demand' });
  });

  test('on the stack it covers every such resource below it, each recorded; without one, each warns and names the way to accept it', () => {
    const accepted = staging();
    certificate(accepted);
    new Zone(accepted, 'Zone', { name: 'staging.example.com', mode: 'primary' });
    StagingSuppressions.add(accepted, [{ id: 'Staging-NotReaped', reason: REASON }]);
    Testing.synth(accepted, true);
    expect(infosOf(accepted).map((i) => i.replace(/\).*/, ')'))).toEqual([`Staging-NotReaped (accepted at acme-staging, reason '${REASON}')`, `Staging-NotReaped (accepted at acme-staging, reason '${REASON}')`]);
    expect(warningsOf(accepted).filter((w) => w.includes('Staging-NotReaped'))).toEqual([]);
    const plain = staging();
    certificate(plain);
    Testing.synth(plain, true);
    expect(warningsOf(plain)).toContainEqual(expect.stringMatching(/^Staging-NotReaped: acme-staging\/Cert is a hcloud_managed_certificate.*Fix: put it in another stack, or destroy it by hand when the rehearsal is over; if it may outlive a rehearsal, accept it with a reason: StagingSuppressions\.add\(<it, or the stack>, \[\{ id: 'Staging-NotReaped', reason: '…' \}\]\)$/));
    expect(infosOf(plain)).toEqual([]);
  });

  test.each([
    ['', 'empty'], ['temporary', 'short'], ['TODO TODO TODO TODO TODO TODO', 'repeated'],
  ])('a reason %p (%s) is refused, naming the path and the fix', (reason) => {
    const stack = staging();
    expect(() => StagingSuppressions.add(certificate(stack), [{ id: 'Staging-NotReaped', reason }]))
      .toThrow("acme-staging/Cert.suppressions: 'Staging-NotReaped' is not allowed: a suppression needs a specific reason of at least 20 characters (letters, at least 8 different ones; "
        + 'spaces, punctuation and invisible characters do not count). Fix: say why the exception is safe here');
  });

  test('an id that is no acceptable staging warning, and a suppression above every stack, are refused', () => {
    const stack = staging();
    expect(() => StagingSuppressions.add(stack, [{ id: 'Boundary-EuPlacement', reason: REASON }]))
      .toThrow("acme-staging.suppressions: 'Boundary-EuPlacement' is not allowed: it is not a staging warning that can be accepted. Fix: use one of Staging-NotReaped");
    expect(() => StagingSuppressions.add(stack.node.scope!, [{ id: 'Staging-NotReaped', reason: REASON }])).toThrow(/^App\.suppressions: .*is above every stack, so the suppression would accept the warning in every staging stack below it, stacks added later included, while no stack lists it: only each accepted resource's info annotation would name it and its reason\. Fix: add it to the stack, or to the construct the finding is on, such as StagingSuppressions\.add\(stack, \[\.\.\.\]\)/);
  });

  test('one that accepts nothing is refused at synth: in a staging stack with no such resource, and in a stack of another environment', () => {
    const nothing = staging();
    StagingSuppressions.add(nothing, [{ id: 'Staging-NotReaped', reason: REASON }]);
    expect(synthError(nothing)).toMatch(/acme-staging\.suppressions: 'Staging-NotReaped' is not allowed: the suppression matches no warned resource \(no resource on it or below it is of a type the staging reaper does not remove \(it removes hcloud_server, .*\)\)\. Fix: remove it, so that what a staging stack leaves billed is accepted only where it really does/);
    const production = staging(Environment.PRODUCTION);
    StagingSuppressions.add(production, [{ id: 'Staging-NotReaped', reason: REASON }]);
    expect(synthError(production)).toContain("acme-production.suppressions: 'Staging-NotReaped' is not allowed: the suppression matches no warned resource (acme-production is a production stack, and only a staging stack warns Staging-NotReaped). Fix: remove it");
  });

  // The reason was printed bare: a credential pasted into it went to the CI log as written, where every other
  // message of the library (boundary suppressions' included) quotes it, redacted.
  test('the info quotes the reason as every message does: a credential in it is redacted', () => {
    const stack = staging();
    StagingSuppressions.add(certificate(stack), [{ id: 'Staging-NotReaped', reason: 'kept on purpose, as https://ops:hunter2hunter2@wiki.acme.eu/staging explains in detail' }]);
    Testing.synth(stack, true);
    expect(infosOf(stack)).toEqual([expect.stringContaining("reason 'kept on purpose, as https://<redacted>@wiki.acme.eu/staging explains in detail')")]);
    expect(infosOf(stack).join('\n')).not.toContain('hunter2');
  });

  // The refusals were the boundary suppressions': they spoke of ports and appliesTo, which Staging-NotReaped never takes.
  test('a second suppression on one construct, and appliesTo in any form, are refused without the boundary rules\' wording', () => {
    const stack = staging();
    StagingSuppressions.add(stack, [{ id: 'Staging-NotReaped', reason: REASON }]);
    expect(() => StagingSuppressions.add(stack, [{ id: 'Staging-NotReaped', reason: `${REASON}, again` }]))
      .toThrow(new ValidationError(`acme-staging.suppressions: 'Staging-NotReaped' (every warned resource, reason '${REASON}, again') is not allowed: acme-staging has a suppression of 'Staging-NotReaped' `
        + `covering the same warned resources already (every warned resource, reason '${REASON}'), so one of them would match no warned resource. Fix: keep one suppression of the warning on the construct`));
    for (const appliesTo of [[], null, ['acme-staging/Cert']]) {
      expect(() => StagingSuppressions.add(certificate(staging()), [{ id: 'Staging-NotReaped', reason: REASON, appliesTo } as any]))
        .toThrow(new ValidationError("acme-staging/Cert.suppressions.entries[0].appliesTo: 'appliesTo' is not allowed: there is no property of this name, so its value would be ignored and the default used. Fix: remove it; the properties are id, reason"));
    }
  });

  // The farther one was said to match no finding "(no resource on it or below it is of a type the staging reaper does
  // not remove …)", though the certificate below it is one: the nearer suppression covered it.
  test('a suppression a nearer one shadows everywhere is refused naming the nearer one, not as covering no such resource', () => {
    const stack = staging();
    const cert = certificate(stack);
    StagingSuppressions.add(stack, [{ id: 'Staging-NotReaped', reason: REASON }]);
    StagingSuppressions.add(cert, [{ id: 'Staging-NotReaped', reason: 'this one certificate is free and renewing it is rate limited by the issuer' }]);
    const error = synthError(stack);
    expect(error).toContain("acme-staging.suppressions: 'Staging-NotReaped' is not allowed: every warned resource it covers is covered by the suppression of the warning on acme-staging/Cert "
      + "(reason 'this one certificate is free and renewing it is rate limited by the issuer'), the nearer one, which applies there and which the info annotation of each accepted resource names. "
      + 'Fix: keep one suppression for each warned resource (remove this one, or the nearer one if this reason is the one to keep)');
    expect(error).not.toContain('matches no warned resource');
    // One that also covers a resource no nearer one does is used, and stays.
    const both = staging();
    StagingSuppressions.add(certificate(both), [{ id: 'Staging-NotReaped', reason: 'this one certificate is free and renewing it is rate limited by the issuer' }]);
    new Zone(both, 'Zone', { name: 'staging.example.com', mode: 'primary' });
    StagingSuppressions.add(both, [{ id: 'Staging-NotReaped', reason: REASON }]);
    expect(synthError(both)).toBe('');
  });
});

// From plain JavaScript, a scope left out read scope.node and threw a TypeError that named neither the call nor the fix.
describe('StagingSuppressions.add and BoundarySuppressions.add, from plain JavaScript', () => {
  test.each([
    ['StagingSuppressions', (scope: unknown) => StagingSuppressions.add(scope as any, [{ id: 'Staging-NotReaped', reason: 'the certificate is free and renewing it is rate limited' }]), 'Staging-NotReaped'],
    ['BoundarySuppressions', (scope: unknown) => BoundarySuppressions.add(scope as any, [{ id: 'Boundary-EuPlacement', reason: 'a load balancer in ash for the US marketing site only' }]), 'Boundary-EuPlacement'],
  ])('%s.add refuses a scope that is missing or no construct, naming the value and the fix', (className, add, id) => {
    const fix = `Fix: pass the construct the finding is on, or its stack: ${className}.add(stack, [{ id: '${id}', reason: '…' }])`;
    for (const missing of [undefined, null]) {
      expect(() => add(missing)).toThrow(new ValidationError(`${className}.add.scope: missing: a suppression is placed on a construct (a stack, or a construct in one). ${fix}`));
    }
    expect(() => add('acme-staging')).toThrow(new ValidationError(`${className}.add.scope: 'acme-staging' is not allowed: it is a string, not a construct. ${fix}`));
  });
});
