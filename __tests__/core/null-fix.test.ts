import { leaveOutFix, orNothing, refuseNull, requireString } from '../../lib/core/runtime-checks';

// Review: the fix for a null was chosen by matching the fix text ("leave it out", "or nothing"), so a fix's wording
// changed what a null was told. The caller now chooses it: a plain text, leaveOutFix or orNothing.
describe("a null's fix is the caller's choice", () => {
  const nullFixOf = (fix: Parameters<typeof refuseNull>[3]): string => {
    try {
      refuseNull('Acme', 'options.port', null, fix);
    } catch (e) {
      return (e as Error).message.replace(/^.*Fix: /s, '');
    }
    throw new Error('null was not refused');
  };

  test('a plain text gets "leave <prop> out (or undefined), or" before it, whatever it says', () => {
    expect(nullFixOf('use Port.of(8443)')).toBe('leave port out (or undefined), or use Port.of(8443)');
    expect(nullFixOf('use Port.of(8443), or leave it out')).toBe('leave port out (or undefined), or use Port.of(8443), or leave it out');
  });

  test('a fix that says to leave the property out is told as it is', () => {
    expect(nullFixOf(leaveOutFix('use Port.of(8443), or leave it out for 443'))).toBe('use Port.of(8443), or leave it out for 443');
  });

  test('"or nothing" is what every other refusal says; a null is told to leave the property out instead', () => {
    const fix = orNothing('pass { port: 5432 }');
    expect(nullFixOf(fix)).toBe('leave port out (or undefined), or pass { port: 5432 }');
    expect(() => requireString('Acme', 'options', 5, fix.text)).toThrow(/Fix: pass \{ port: 5432 \} or nothing$/);
  });

  test('undefined passes', () => {
    expect(() => refuseNull('Acme', 'options.port', undefined, orNothing('pass { port: 5432 }'))).not.toThrow();
  });
});
