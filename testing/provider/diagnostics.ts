import { PathStep } from './plan';

/** A protocol diagnostic, as the stand-in sends it to Terraform. */
export interface Diagnostic {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail: string;
  attribute?: { steps: PathStep[] };
}

/** An attribute path from names and element keys (`['rule', 0, 'port']`). */
export function pathSteps(path: ReadonlyArray<string | number>): PathStep[] {
  return path.map((p) => (typeof p === 'number' ? { element_key_int: p } : { attribute_name: p }));
}

/** An error diagnostic, at an attribute path when one is given. */
export function errorAt(path: ReadonlyArray<string | number> | undefined, summary: string, detail = ''): Diagnostic {
  return { severity: 'ERROR', summary, detail, attribute: path && path.length > 0 ? { steps: pathSteps(path) } : undefined };
}

/** A warning diagnostic, at an attribute path when one is given. */
export function warningAt(path: ReadonlyArray<string | number> | undefined, summary: string, detail = ''): Diagnostic {
  return { severity: 'WARNING', summary, detail, attribute: path && path.length > 0 ? { steps: pathSteps(path) } : undefined };
}
