import {
  Component, Duration, FirewallRule, Location, Peer, Phase, Port, PostgresVersion, Schedule, ServerType, Size, Weekday,
} from '../../lib';
import { DataClass, EgressForm, Processor } from '../../lib';
import { policy } from '../boundary/fixtures';
import { MESSAGE, refusal } from '../boundary/refusal';

// A plain-JavaScript caller asks the value types questions with what it has at hand: a number for a Duration,
// 'fsn1' for Location.FSN1, 'data-volume' for Component.DATA_VOLUME. Each answered false without a word (a
// type offered nowhere, a component no phase permits, a port no rule opens, a duration never longer). Each
// question of the wrong type is refused now, naming the method, the argument, the value and the fix.

interface Query {
  readonly name: string;
  /** The question asked with a valid argument, and its answer. */
  readonly valid: () => boolean;
  readonly answer: boolean;
  /** The question asked with `arg`. */
  readonly ask: (arg: unknown) => boolean;
  /** What a JavaScript caller passes instead (each answered false before). */
  readonly wrong: unknown[];
}

const QUERIES: Query[] = [
  { name: 'Duration.isLongerThan', valid: () => Duration.minutes(2).isLongerThan(Duration.seconds(30)), answer: true,
    ask: (a) => Duration.minutes(2).isLongerThan(a as Duration), wrong: [30, '30s', undefined, null, Size.gibibytes(1)] },
  { name: 'Size.isLargerThan', valid: () => Size.gibibytes(2).isLargerThan(Size.gibibytes(1)), answer: true,
    ask: (a) => Size.gibibytes(2).isLargerThan(a as Size), wrong: [1, '1 GiB', undefined, Duration.seconds(1)] },
  { name: 'Port.includes', valid: () => Port.range(8000, 8080).includes(8001), answer: true,
    ask: (a) => Port.range(8000, 8080).includes(a as number), wrong: [undefined, null, Port.of(8001), 8000.5, NaN] },
  { name: 'Port.contains', valid: () => Port.ALL.contains(Port.of(443)), answer: true,
    ask: (a) => Port.ALL.contains(a as Port), wrong: [443, '443', undefined] },
  { name: 'FirewallRule.includesPort', valid: () => FirewallRule.httpsFromAnywhere().includesPort(443), answer: true,
    ask: (a) => FirewallRule.icmpIn().includesPort(a as number), wrong: [undefined, Port.of(443), '443'] },
  { name: 'ServerType.isOfferedIn', valid: () => ServerType.CX23.isOfferedIn(Location.FSN1), answer: true,
    ask: (a) => ServerType.CX23.isOfferedIn(a as Location), wrong: ['fsn1', undefined, { name: 'fsn1' }] },
  { name: 'ServerType.isDeprecatedIn', valid: () => ServerType.CX23.isDeprecatedIn(Location.FSN1), answer: false,
    ask: (a) => ServerType.CX23.isDeprecatedIn(a as Location), wrong: ['fsn1', undefined] },
  { name: 'Phase.permits', valid: () => Phase.THREE.permits(Component.DATA_VOLUME), answer: true,
    ask: (a) => Phase.THREE.permits(a as Component), wrong: ['data-volume', undefined, { id: 'data-volume' }] },
  { name: 'PostgresVersion.equals', valid: () => PostgresVersion.of(15).equals(PostgresVersion.of(15)), answer: true,
    ask: (a) => PostgresVersion.of(15).equals(a as PostgresVersion), wrong: [15, '15', undefined] },
  { name: 'Peer.equals', valid: () => Peer.ipv4('203.0.113.0/24').equals('203.0.113.0/24'), answer: true,
    ask: (a) => Peer.ipv4('203.0.113.0/24').equals(a as Peer), wrong: [123, undefined, null, { cidr: '203.0.113.0/24' }, Port.of(443)] },
  { name: 'BoundaryPolicy.mayLeave', valid: () => policy.mayLeave(DataClass.SECRET), answer: false,
    ask: (a) => policy.mayLeave(a as DataClass), wrong: ['pseudonymized', undefined, { name: 'public' }] },
  { name: 'BoundaryPolicy.allows', valid: () => policy.allows(DataClass.SECRET, Processor.mistralAi(), EgressForm.RAW), answer: false,
    ask: (a) => policy.allows(a as DataClass, Processor.mistralAi(), EgressForm.RAW), wrong: ['public', undefined] },
  { name: 'BoundaryPolicy.allows', valid: () => policy.allows(DataClass.SECRET, Processor.mistralAi(), EgressForm.RAW), answer: false,
    ask: (a) => policy.allows(DataClass.PUBLIC, Processor.mistralAi(), a as EgressForm), wrong: ['plain', undefined] },
  { name: 'BoundaryPolicy.hasProcessor', valid: () => policy.hasProcessor(Processor.mistralAi()), answer: true,
    ask: (a) => policy.hasProcessor(a as Processor), wrong: ['Mistral AI', 'api.mistral.ai', undefined] },
  { name: 'BoundaryPolicy.formFor', valid: () => policy.formFor(DataClass.SECRET, Processor.mistralAi()) === undefined, answer: true,
    ask: (a) => policy.formFor(DataClass.PUBLIC, a as Processor) === undefined, wrong: ['Mistral AI', undefined] },
];

describe.each(QUERIES)('$name', (query) => {
  test('answers a question of the right type as before', () => {
    expect(query.valid()).toBe(query.answer);
  });

  test.each(query.wrong.map((w) => [String(typeof w === 'object' && w !== null ? w.constructor.name : JSON.stringify(w) ?? w), w]))(
    'refuses %s with the method, the value and the fix, rather than answering false', (_label, wrong) => {
      const message = refusal(() => query.ask(wrong));
      expect(message).toMatch(MESSAGE);
      expect(message.startsWith(`${query.name}.`)).toBe(true);
    });
});

describe('Schedule: an hour or minute out of range', () => {
  test('hour 24 names the method and the hour, says the hours are 0-23 and writes midnight as 0', () => {
    expect(refusal(() => Schedule.daily({ hour: 24 })))
      .toBe('Schedule.daily.hour: 24 is not allowed: an hour is 0 to 23, in UTC. Fix: write midnight as { hour: 0 }');
  });

  test('another hour out of range gets the valid hours and an example', () => {
    expect(refusal(() => Schedule.weekly({ day: Weekday.SUNDAY, hour: -1 })))
      .toBe('Schedule.weekly.hour: -1 is not allowed: an hour is 0 to 23, in UTC. Fix: pass an hour from 0 to 23, such as { hour: 3 }');
    expect(refusal(() => Schedule.daily({ hour: 30 }))).toBe('Schedule.daily.hour: 30 is not allowed: an hour is 0 to 23, in UTC. Fix: pass an hour from 0 to 23, such as { hour: 3 }');
  });

  test('a minute out of range is named as the minute, not as a time nobody gave', () => {
    expect(refusal(() => Schedule.daily({ hour: 3, minute: 60 })))
      .toBe('Schedule.daily.minute: 60 is not allowed: a minute is 0 to 59. Fix: pass a minute from 0 to 59, such as { hour: 3, minute: 15 }');
  });

  test('the hours 0 and 23 are taken', () => {
    expect(Schedule.daily({ hour: 0 }).onCalendar).toBe('*-*-* 00:00:00 UTC');
    expect(Schedule.daily({ hour: 23, minute: 59 }).onCalendar).toBe('*-*-* 23:59:00 UTC');
  });
});
