import { Lazy } from 'cdktf';
import { CDKTF_STACK_TRACE_MODULE } from './plain-creation-stacks';

// jest-setup.ts gives cdktf's creation stacks V8's own frame text, formatted when first read
// (plain-creation-stacks.ts). If a cdktf release moves the helper, this fails, instead of the suites silently
// getting slower again.

/* eslint-disable @typescript-eslint/no-require-imports */
const helper = require(CDKTF_STACK_TRACE_MODULE) as { captureStackTrace: (below?: Function) => string[] };

describe('creation stacks under jest', () => {
  test('cdktf records them through the plain helper', () => {
    expect(helper.captureStackTrace.toString()).toContain('framesAsText');
  });

  test('a token records where it was made, frame by frame as V8 prints them, its maker first', () => {
    function makeToken() {
      return Lazy.stringValue({ produce: () => 'x' });
    }
    const token = makeToken();
    const lazy = require('cdktf/lib/tokens/private/token-map').TokenMap.instance().lookupString(token) as { creationStack: string[] };
    expect(lazy.creationStack.length).toBeGreaterThan(3);
    for (const frame of lazy.creationStack) expect(frame).not.toMatch(/^\s*at /);
    expect(lazy.creationStack.find((f) => !f.includes('node_modules'))).toMatch(/^makeToken \(.*plain-creation-stacks\.test\.ts:\d+:\d+\)$/);
  });

  test('reads as a plain array of strings wherever cdktf or a test reads it', () => {
    function makeFrames() {
      return helper.captureStackTrace();
    }
    const frames = makeFrames();
    const plain = [...frames];
    expect(Array.isArray(frames)).toBe(true);
    expect(frames.length).toBe(plain.length);
    expect(frames[0]).toMatch(/^makeFrames \(/);
    expect(plain.every((f) => typeof f === 'string')).toBe(true);
    expect(frames.join('\n')).toBe(plain.join('\n'));
    expect(JSON.parse(JSON.stringify(frames))).toEqual(plain);
    expect(Object.keys(frames)).toEqual(Object.keys(plain));
    frames[0] = 'replaced';
    expect(frames[0]).toBe('replaced');
  });

  test('a frame argument hides itself and what it called, as before', () => {
    function outer() {
      return inner();
    }
    function inner() {
      return helper.captureStackTrace(inner);
    }
    const frames = outer();
    expect(frames[0]).toMatch(/^outer \(/);
    expect(frames.some((f) => f.startsWith('inner '))).toBe(false);
  });
});
