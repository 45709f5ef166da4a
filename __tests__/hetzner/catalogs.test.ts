import * as fs from 'fs';
import * as facts from './hetzner-facts';
import { Architecture, Location, ServerType, ServerTypeChoice } from '../../lib';
import { refusal } from '../boundary/refusal';

const testWithFacts = test;

test('the repository\'s copy of the reference facts is the team\'s shared copy, where that sits beside the repository', () => {
  if (!fs.existsSync(facts.SHARED_FACTS_FILE)) return; // a team's clone carries only its own copy
  expect(fs.readFileSync(facts.FACTS_FILE, 'utf8')).toBe(fs.readFileSync(facts.SHARED_FACTS_FILE, 'utf8'));
});

describe('Location', () => {
  test('fsn1, nbg1 and hel1 are the EU; ash, hil and sin are not', () => {
    expect(Location.eu().map((l) => l.name)).toEqual(['fsn1', 'nbg1', 'hel1']);
    expect([Location.ASH, Location.HIL, Location.SIN].map((l) => l.inEu)).toEqual([false, false, false]);
  });
  test('each location carries its network zone', () => {
    expect(Object.fromEntries(Location.all().map((l) => [l.name, l.networkZone]))).toEqual({
      fsn1: 'eu-central', nbg1: 'eu-central', hel1: 'eu-central', ash: 'us-east', hil: 'us-west', sin: 'ap-southeast',
    });
  });
  test('of() returns the catalog instance, or an unknown location instead of throwing', () => {
    expect(Location.of('nbg1')).toBe(Location.NBG1);
    const unknown = Location.of('fra1');
    expect(unknown.isKnown).toBe(false);
    expect(unknown.inEu).toBe(false);
  });
  testWithFacts('agrees with the reference facts', () => {
    for (const fact of facts.locations()) {
      const location = Location.of(fact.name);
      expect([location.name, location.networkZone, location.inEu, location.country]).toEqual([fact.name, fact.networkZone, fact.inEU, fact.country]);
    }
    expect(Location.all()).toHaveLength(facts.locations().length);
  });
});

describe('ServerType', () => {
  test('carries cores, memory, disk and architecture', () => {
    expect(ServerType.CX23.cores).toBe(2);
    expect(ServerType.CX23.memory.toGibibytes()).toBe(4);
    expect(ServerType.CX23.disk.toGibibytes()).toBe(40);
    expect(ServerType.CAX11.architecture).toBe(Architecture.ARM);
  });
  test('flags cx22-cx52 as deprecated everywhere, with their gen3 successors', () => {
    expect(['cx22', 'cx32', 'cx42', 'cx52'].map((n) => [n, ServerType.of(n).successor?.name, ServerType.of(n).isDeprecatedIn(Location.FSN1)]))
      .toEqual([['cx22', 'cx23', true], ['cx32', 'cx33', true], ['cx42', 'cx43', true], ['cx52', 'cx53', true]]);
  });
  test('flags cpx11-cpx51 as deprecated outside the US only', () => {
    for (const name of ['cpx11', 'cpx21', 'cpx31', 'cpx41', 'cpx51']) {
      const type = ServerType.of(name);
      expect([Location.FSN1, Location.NBG1, Location.HEL1, Location.SIN].every((l) => type.isDeprecatedIn(l))).toBe(true);
      expect([Location.ASH, Location.HIL].some((l) => type.isDeprecatedIn(l))).toBe(false);
    }
  });
  test('a successor has at least the cores and memory of the type it replaces, and is itself current', () => {
    for (const type of ServerType.all().filter((t) => t.deprecation)) {
      const successor = type.successor!;
      expect(successor.deprecation).toBeUndefined();
      expect(successor.cores).toBeGreaterThanOrEqual(type.cores);
      expect(successor.memory.toGibibytes()).toBeGreaterThanOrEqual(type.memory.toGibibytes());
    }
  });
  testWithFacts('agrees with the reference facts on every type', () => {
    for (const fact of facts.serverTypes()) {
      const type = ServerType.of(fact.name);
      expect({ name: type.name, cores: type.cores, memoryGb: type.memory.toGibibytes(), diskGb: type.disk.toGibibytes(), architecture: type.architecture, locations: type.locationNames.sort(), deprecated: type.deprecation !== undefined })
        .toEqual({ name: fact.name, cores: fact.cores, memoryGb: fact.memoryGb, diskGb: fact.diskGb, architecture: fact.architecture, locations: [...fact.locations].sort(), deprecated: fact.deprecation !== null });
    }
    expect(ServerType.all()).toHaveLength(facts.serverTypes().length);
  });
  test('of() returns an unknown type instead of throwing; reading its size throws with the known names', () => {
    const unknown = ServerType.of('cx99');
    expect(unknown.isKnown).toBe(false);
    expect(refusal(() => unknown.cores)).toMatch(/^ServerType\(cx99\)\.cores: 'cx99' is not allowed: it is not in the catalog, so the library knows nothing about it\. Fix: use one of cx23/);
    expect(refusal(() => unknown.isOfferedIn(Location.FSN1))).toMatch(/^ServerType\(cx99\)\.isOfferedIn: /);
  });

  test('ServerTypeChoice.of refuses no type, and a type given as its name (JavaScript), in the house shape', () => {
    expect(refusal(() => ServerTypeChoice.of())).toMatch(/^ServerTypeChoice\.of\.types: missing: at least one server type is needed\. Fix: pass the preferred type first/);
    expect(refusal(() => ServerTypeChoice.of(ServerType.CX33, 'cpx32' as any))).toMatch(/^ServerTypeChoice\.of\.types\[1\]: 'cpx32' is not allowed: it is not a ServerType/);
    expect(ServerTypeChoice.of(ServerType.CX33, ServerType.CPX32).toString()).toBe('cx33 → cpx32');
  });
});
