import { AiActRole, BoundaryPolicy, BoundaryPolicyProps, DataClass, EgressForm, Processor } from '../../lib';

const mistral = Processor.mistralAi();
const jina = Processor.jinaAi();
const valid: BoundaryPolicyProps = {
  aiActRoles: [AiActRole.DEPLOYER],
  egress: [
    { dataClass: DataClass.PUBLIC, to: [mistral, jina], form: EgressForm.RAW },
    { dataClass: DataClass.PSEUDONYMIZED, to: [mistral], form: EgressForm.PSEUDONYMIZED },
  ],
};

describe('BoundaryPolicy', () => {
  test('answers what may leave, to whom and in what form', () => {
    const policy = new BoundaryPolicy(valid);
    expect(policy.allows(DataClass.PUBLIC, jina, EgressForm.RAW)).toBe(true);
    expect(policy.allows(DataClass.PSEUDONYMIZED, mistral, EgressForm.PSEUDONYMIZED)).toBe(true);
    expect(policy.allows(DataClass.PSEUDONYMIZED, mistral, EgressForm.RAW)).toBe(false);
    expect(policy.allows(DataClass.PSEUDONYMIZED, jina, EgressForm.PSEUDONYMIZED)).toBe(false);
    expect(policy.allows(DataClass.SENSITIVE, mistral, EgressForm.PSEUDONYMIZED)).toBe(false);
    expect(policy.mayLeave(DataClass.SECRET)).toBe(false);
    expect(policy.processors).toEqual([mistral, jina]);
  });

  test('says exactly what each processor may receive: Mistral for pseudonymized data only', () => {
    const p = new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PSEUDONYMIZED, to: [Processor.mistralAi()], form: EgressForm.PSEUDONYMIZED }] });
    expect(p.allowancesFor(Processor.mistralAi())).toEqual([{ dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED }]);
    expect(p.allows(DataClass.PUBLIC, Processor.mistralAi(), EgressForm.RAW)).toBe(false);
    expect(p.allows(DataClass.PSEUDONYMIZED, Processor.mistralAi(), EgressForm.PSEUDONYMIZED)).toBe(true);
  });

  test('compares processors by value: two calls of Processor.mistralAi() are one processor', () => {
    const p = new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [
      { dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.RAW },
      { dataClass: DataClass.PSEUDONYMIZED, to: [Processor.mistralAi('chat')], form: EgressForm.PSEUDONYMIZED },
    ] });
    expect(p.processors).toHaveLength(1);
    expect(p.hasProcessor(Processor.mistralAi())).toBe(true);
    expect(Processor.mistralAi().equals(Processor.jinaAi())).toBe(false);
    expect(() => new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [
      { dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.RAW },
      { dataClass: DataClass.PUBLIC, to: [Processor.mistralAi()], form: EgressForm.PSEUDONYMIZED },
    ] })).toThrow(/it allows both raw and pseudonymized/);
  });

  test('knows the catalogue processors by their legal seat', () => {
    expect([mistral.legalSeat, mistral.inEu, jina.legalSeat, jina.inEu]).toEqual([{ city: 'Paris', country: 'FR' }, true, { city: 'Berlin', country: 'DE' }, true]);
  });

  const bad: Array<[string, Partial<BoundaryPolicyProps>, RegExp]> = [
    ['no AI Act role', { aiActRoles: [] }, /BoundaryPolicy\.aiActRoles: \[\] is not allowed: .* Fix: declare aiActRoles/],
    ['an unknown AI Act role', { aiActRoles: ['importer' as AiActRole] }, /BoundaryPolicy\.aiActRoles: 'importer' is not allowed: it is not an AI Act role/],
    ['an unknown data class', { egress: [{ dataClass: { name: 'internal' } as unknown as DataClass, to: [mistral], form: EgressForm.RAW }] }, /BoundaryPolicy\.egress\[0\]\.dataClass: 'internal' is not allowed: it is not a data class\. Fix: use DataClass\.PUBLIC, DataClass\.PSEUDONYMIZED, DataClass\.SENSITIVE or DataClass\.SECRET$/],
    ['an unknown egress form', { egress: [{ dataClass: DataClass.PUBLIC, to: [mistral], form: 'hashed' as EgressForm }] }, /BoundaryPolicy\.egress\[0\]\.form: 'hashed' is not allowed: it is not an egress form/],
    ['a processor without a legal seat', { egress: [{ dataClass: DataClass.PUBLIC, to: [new Processor({ name: 'Anon AI', legalSeat: undefined as any, hostnames: ['api.anon.ai'] })], form: EgressForm.RAW }] }, /BoundaryPolicy\.egress: 'Anon AI' is not allowed: a processor needs a legal seat/],
    ['a processor outside the EU', { egress: [{ dataClass: DataClass.PUBLIC, to: [new Processor({ name: 'US Models Inc', legalSeat: { city: 'San Francisco', country: 'US' }, hostnames: ['api.us-models.example'] })], form: EgressForm.RAW }] }, /BoundaryPolicy\.egress: 'US Models Inc \(San Francisco, US\)' is not allowed: public data may only go to processors with an EU legal seat/],
    ['a processor without hostnames', { egress: [{ dataClass: DataClass.PUBLIC, to: [new Processor({ name: 'Quiet AI', legalSeat: { city: 'Lyon', country: 'FR' }, hostnames: [] })], form: EgressForm.RAW }] }, /'Quiet AI' is not allowed: a processor needs the API hostnames/],
    ['secrets allowed to leave raw', { egress: [...valid.egress, { dataClass: DataClass.SENSITIVE, to: [mistral], form: EgressForm.PSEUDONYMIZED }, { dataClass: DataClass.SECRET, to: [mistral], form: EgressForm.RAW }] }, /BoundaryPolicy\.egress: 'secret → Mistral AI \(raw\)' is not allowed: the policy contradicts itself: secrets, tokens and identity data never leave/],
    ['secrets allowed to leave even pseudonymized', { egress: [...valid.egress, { dataClass: DataClass.SENSITIVE, to: [mistral], form: EgressForm.PSEUDONYMIZED }, { dataClass: DataClass.SECRET, to: [mistral], form: EgressForm.PSEUDONYMIZED }] }, /secrets, tokens and identity data never leave/],
    ['sensitive data allowed to leave raw', { egress: [...valid.egress, { dataClass: DataClass.SENSITIVE, to: [mistral], form: EgressForm.RAW }] }, /'sensitive → Mistral AI \(raw\)' is not allowed: the policy contradicts itself: sensitive data never leaves raw/],
    ['two forms for one class and processor', { egress: [...valid.egress, { dataClass: DataClass.PUBLIC, to: [mistral], form: EgressForm.PSEUDONYMIZED }] }, /'public → Mistral AI' is not allowed: the policy contradicts itself: it allows both raw and pseudonymized/],
  ];
  // Audit (mutation): only a US seat was ever refused, so an EU list that let in Switzerland, the UK or the EEA
  // states (European, not EU) passed every test.
  test.each([
    ['Zurich', 'CH'], ['London', 'GB'], ['Oslo', 'NO'], ['Reykjavik', 'IS'], ['Vaduz', 'LI'],
  ])('refuses a processor seated in %s (%s): European, but not in the EU', (city, country) => {
    const processor = new Processor({ name: 'Nearby AI', legalSeat: { city, country }, hostnames: ['api.nearby.example'] });
    expect(processor.inEu).toBe(false);
    expect(() => new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [processor], form: EgressForm.RAW }] }))
      .toThrow(new RegExp(`BoundaryPolicy\\.egress: 'Nearby AI \\(${city}, ${country}\\)' is not allowed: public data may only go to processors with an EU legal seat`));
  });

  test.each(bad)('fails when the policy has %s', (_name, override, message) => {
    expect(() => new BoundaryPolicy({ ...valid, ...override })).toThrow(message);
  });
});
