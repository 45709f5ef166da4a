import { DataClass } from '../data-class';

/** Whether `classes` are public alone: what the boundary lets live outside the EU, and what a database or a drill's copy never holds. */
export function holdsOnlyPublic(classes: readonly DataClass[]): boolean {
  return classes.every((c) => c === DataClass.PUBLIC);
}
