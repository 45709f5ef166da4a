import { describeWithRealParts, runsInCi } from './real-parts';

// A suite whose real part is missing fails in CI and is skipped elsewhere, with one line saying why.

describe('describeWithRealParts', () => {
  test('runs the suite when its parts are there, in CI or not', () => {
    expect(describeWithRealParts(true, 'the soak', 'pgbench', { CI: 'true' })).toBe(describe);
    expect(describeWithRealParts(true, 'the soak', 'pgbench', {})).toBe(describe);
  });

  test('fails in CI when a part is missing, naming the suite, the part and the fix', () => {
    for (const CI of ['true', '1']) {
      expect(() => describeWithRealParts(false, 'the soak', 'root and pgbench', { CI }))
        .toThrow(/^the soak needs root and pgbench, and CI must have it: run the suites as root after scripts\/system-packages\.sh/);
    }
  });

  test('skips outside CI with a one-line notice', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      for (const env of [{}, { CI: 'false' }, { CI: '' }]) {
        expect(describeWithRealParts(false, 'the soak', 'root and pgbench', env)).toBe(describe.skip);
      }
      expect(warn.mock.calls).toEqual(Array(3).fill(['the soak skipped: it needs root and pgbench']));
    } finally {
      warn.mockRestore();
    }
  });

  test('takes CI as set unless it is empty, false or 0', () => {
    expect([{ CI: 'true' }, { CI: '1' }, { CI: 'yes' }].map((env) => runsInCi(env))).toEqual([true, true, true]);
    expect([{}, { CI: '' }, { CI: 'false' }, { CI: '0' }].map((env) => runsInCi(env))).toEqual([false, false, false, false]);
  });
});
