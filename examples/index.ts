import { App } from 'cdktf';
import { phase1Pilot } from './phase1-pilot';

/** Every example app, by name: each adds its stacks to the app it is given. */
export const EXAMPLES: Record<string, (app: App) => unknown> = {
  'phase1-pilot': phase1Pilot,
};
