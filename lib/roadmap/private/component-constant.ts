import type { Component } from '../component';

/** The name of a component's constant on `Component`, such as SPLIT_APP_DB: messages show the code to write. */
export function componentConstant(component: Component): string {
  return component.id.toUpperCase().replace(/-/g, '_');
}
