import { ValidationError } from '../../../lib';
import { PrepareRefusedError } from '../../../testing';

/**
 * What `refused` threw: a PrepareRefusedError (every refusal of LoopbackMachine.prepareFor and createDebianCluster is
 * one), and so the library's ValidationError, else the test fails. Shared, so that each suite holds every refusal to
 * the same.
 */
export function refusal(refused: () => unknown): PrepareRefusedError {
  let thrown: unknown;
  try { refused(); } catch (e) { thrown = e; }
  expect(thrown).toBeInstanceOf(PrepareRefusedError);
  expect(thrown).toBeInstanceOf(ValidationError);
  expect((thrown as Error).name).toBe('PrepareRefusedError');
  return thrown as PrepareRefusedError;
}
