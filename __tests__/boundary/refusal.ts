import { TerraformStack, Testing } from 'cdktf';
import { ValidationError } from '../../lib';

// How the red-team corpus judges a configuration: refused with the library's message (path, value,
// fix), crashed (any other error), or accepted (synthesized with validations).

/** What building and synthesizing a configuration came to. `stacks` are the accepted stacks, for Terraform to judge. */
export type Outcome = { kind: 'rejected'; message: string } | { kind: 'crash'; error: unknown } | { kind: 'accepted'; stacks: TerraformStack[] };

/** A message in the library's shape: `<path>.<prop>: <value> is not allowed: <why>. Fix: <how>` (or `missing:`), per line; the path has no spaces outside parentheses (a name or URL in parentheses may have them). */
export const MESSAGE = /^(Boundary-[A-Za-z]+: )?(?:\([^)]*\)|[^\s(:])(?:\([^)]*\)|[^\s(])*?: (.+ is not allowed: .+|missing: .+)\. Fix: \S.*$/;

function messagesOf(error: Error): string[] {
  if (error.name === 'ValidationError') return [error.message];
  // cdktf collects validation errors as "  [<construct path>] <message>" lines.
  return error.message.split('\n').map((l) => /^\s*\[[^\]]*\] (.*)$/.exec(l)?.[1]).filter((l): l is string => l !== undefined);
}

/** Builds, then synthesizes every returned stack with validations. */
export function outcomeOf(build: () => TerraformStack | TerraformStack[] | void): Outcome {
  let stacks: TerraformStack[];
  try {
    const built = build();
    stacks = built === undefined ? [] : [built].flat();
  } catch (e) {
    return (e as Error)?.name === 'ValidationError' ? { kind: 'rejected', message: (e as Error).message } : { kind: 'crash', error: e };
  }
  for (const stack of stacks) {
    try {
      Testing.synth(stack, true);
    } catch (e) {
      const error = e as Error;
      if (!(error instanceof Error) || error.name !== 'Error' || !/Validation failed/.test(error.message)) return { kind: 'crash', error: e };
      return { kind: 'rejected', message: messagesOf(error).join('\n') };
    }
  }
  return { kind: 'accepted', stacks };
}

/** Asserts the configuration is refused, every message line in the library's shape (and matching `why`); returns the message. */
export function expectRefused(build: () => TerraformStack | TerraformStack[] | void, why?: RegExp): string {
  const outcome = outcomeOf(build);
  if (outcome.kind === 'crash') throw new Error(`crashed instead of refusing: ${String((outcome.error as Error)?.stack ?? outcome.error)}`);
  if (outcome.kind === 'accepted') throw new Error('accepted an invalid configuration');
  const lines = outcome.message.split('\n').filter((l) => l.trim() !== '');
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(MESSAGE);
  if (why) expect(outcome.message).toMatch(why);
  return outcome.message;
}

/** The error `build` throws, checked to be a ValidationError in the library's one-line shape; returns its message. */
export function refusal(build: () => unknown): string {
  let error: unknown;
  try {
    build();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ValidationError);
  const message = (error as Error).message;
  expect(message).toMatch(MESSAGE);
  return message;
}
