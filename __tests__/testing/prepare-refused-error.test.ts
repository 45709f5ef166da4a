import { ValidationError } from '../../lib';
import { PrepareRefusedError } from '../../testing';

// Review: PrepareRefusedError was a bare Error, so a caller catching the library's refusals (ValidationError) let
// prepareFor's through, and prepareFor's re-wording of createDebianCluster's refusal dropped the original.

test("a PrepareRefusedError is the library's ValidationError, named as itself", () => {
  const refused = new PrepareRefusedError('LoopbackMachine.prepareFor(m): bad. Fix: good.');
  expect(refused).toBeInstanceOf(ValidationError);
  expect(refused).toBeInstanceOf(Error);
  expect(refused.name).toBe('PrepareRefusedError');
  expect(String(refused)).toBe('PrepareRefusedError: LoopbackMachine.prepareFor(m): bad. Fix: good.');
  // No cause given, none there (as Error without { cause }).
  expect('cause' in refused).toBe(false);
});

test('its cause is kept as ES2022 Error keeps one: an own property, not enumerable', () => {
  const original = new PrepareRefusedError('createDebianCluster: bad. Fix: good.');
  const reworded = new PrepareRefusedError(`LoopbackMachine.prepareFor(m): ${original.message}`, { cause: original });
  expect(reworded.cause).toBe(original);
  expect(Object.getOwnPropertyDescriptor(reworded, 'cause')).toEqual({ value: original, writable: true, enumerable: false, configurable: true });
  expect(Object.getOwnPropertyDescriptor(reworded, 'cause')).toEqual(Object.getOwnPropertyDescriptor(new (Error as any)('x', { cause: original }), 'cause'));
  // An explicit undefined cause is still a cause given, as with Error.
  expect('cause' in new PrepareRefusedError('m', { cause: undefined })).toBe(true);
});
