import { TerraformStack, Testing } from 'cdktf';
import {
  Component, DataClass, DataVolume, Environment, ErrorMonitoringEndpoint, Location, Machine, Phase, Product, ProductProps, Retirement, ServerType, Size,
} from '../../lib';
import { isReason } from '../../lib/core/reason';
import { policy } from '../boundary/fixtures';
import { refusal } from '../boundary/refusal';
import { admin, backup, monitoring } from '../setup/product-basics';
import { ADMIN_CIDRS, ADMIN_KEY, testStack } from '../setup/stack';

// Audit (plain JavaScript callers): the written reasons that lift a protection (a retirement lifts production's
// delete protection, withoutBackup opts a volume out of backups, an early adoption builds a postponed component,
// usSeatAccepted lets events go to a US-seated processor) were measured in characters after trim(), so 20
// zero-width spaces or dots passed, and a reason that was not text crashed with a TypeError. Boundary
// suppressions already counted letters; all of them now use that one measure.

const ZERO_WIDTH = '\u200b'.repeat(25);
const NOT_A_SENTENCE = ['.'.repeat(25), ZERO_WIDTH, 'x'.repeat(25), 'TODO TODO TODO TODO TODO', '2026-12-01 / 12345 / #987'];
const SENTENCE = 'the pilot customer left on 2026-12-01; production is retired';

describe('isReason', () => {
  test.each(NOT_A_SENTENCE)('%j is no reason', (text) => expect(isReason(text)).toBe(false));
  test.each([25, ['a reason in a list, of many letters'], null, undefined])('%j, not text, is no reason', (value) => expect(isReason(value)).toBe(false));
  test('a sentence is one, in any alphabet', () => {
    expect(isReason(SENTENCE)).toBe(true);
    expect(isReason('Пилотный клиент ушёл, производство выводится')).toBe(true);
  });
});

describe('a reason that lifts a protection is a sentence', () => {
  test.each(NOT_A_SENTENCE)('Retirement.declare refuses %j: production keeps its delete protection', (reason) => {
    const stack = new TerraformStack(Testing.app(), 'acme-production');
    expect(refusal(() => Retirement.declare(stack, { reason }))).toMatch(/^acme-production\.retire\.reason: .* is not allowed: retiring lifts the protections .*\(at least 20 letters, 8 of them different.*\)\. Fix: say why in a sentence/);
    expect(Retirement.of(stack)).toBeUndefined();
  });

  test.each(NOT_A_SENTENCE)('DataVolume refuses withoutBackup %j: the volume stays one that must be backed up', (withoutBackup) => {
    const { stack } = testStack();
    const machine = new Machine(stack, 'App', {
      environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, location: Location.FSN1, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.SENSITIVE],
    });
    expect(refusal(() => new DataVolume(stack, 'Cache', { machine, size: Size.gibibytes(10), withoutBackup })))
      .toMatch(/^production\/Cache\.withoutBackup: .* is not allowed: opting a volume out of backups needs a specific reason of at least 20 characters \(at least 20 letters.*\)\. Fix: say why losing its data is harmless/);
  });

  const product = (overrides: Record<string, unknown>): ProductProps => ({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring, ...overrides } as any);

  test.each(NOT_A_SENTENCE)('Product refuses the early adoption reason %j', (reason) => {
    expect(refusal(() => new Product(product({ earlyAdoptions: [{ component: Component.DATA_VOLUME, reason }] }))))
      .toMatch(/^Product\(acme\)\.earlyAdoptions: "data-volume" is not allowed: an early adoption needs a specific reason of at least 20 characters \(at least 20 letters.*\)\. Fix: say why/);
  });

  test.each([[25], [['we need it now, for the model cache']], [{ text: 'we need it now' }], [true]])('Product refuses an early adoption reason that is not text (%j), where it crashed with a TypeError', (reason) => {
    expect(refusal(() => new Product(product({ earlyAdoptions: [{ component: Component.DATA_VOLUME, reason }] }))))
      .toMatch(/^Product\(acme\)\.earlyAdoptions\[0\]\.reason: .* is not allowed: it is an? \w+, not a text value\. Fix: say why it cannot wait for its threshold/);
  });

  test('Product refuses a misspelt field of an early adoption by name', () => {
    expect(refusal(() => new Product(product({ earlyAdoptions: [{ component: Component.DATA_VOLUME, reason: 'the model cache needs a volume before the threshold', reasn: 'x' }] }))))
      .toMatch(/^Product\(acme\)\.earlyAdoptions\[0\]\.reasn: 'reasn' is not allowed: there is no property of this name.*Fix: did you mean 'reason'\?/);
  });

  test.each(NOT_A_SENTENCE)('ErrorMonitoringEndpoint.sentryEuRegion refuses usSeatAccepted %j', (usSeatAccepted) => {
    expect(refusal(() => ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname: 'o1.ingest.de.sentry.io', usSeatAccepted })))
      .toMatch(/^ErrorMonitoringEndpoint\.sentryEuRegion\.usSeatAccepted: .* is not allowed: accepting a US-seated processor needs a specific reason of at least 20 characters \(at least 20 letters/);
  });

  test('a real sentence passes each of them', () => {
    const stack = new TerraformStack(Testing.app(), 'acme-production');
    Retirement.declare(stack, { reason: SENTENCE });
    expect(Retirement.of(stack)?.reason).toBe(SENTENCE);
    expect(new Product(product({ earlyAdoptions: [{ component: Component.DATA_VOLUME, reason: 'the model cache needs a volume before the threshold' }] })).earlyAdoptions).toHaveLength(1);
    expect(() => ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname: 'o1.ingest.de.sentry.io', usSeatAccepted: 'events are scrubbed of personal data before they leave' })).not.toThrow();
  });
});
