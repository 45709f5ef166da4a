import { App } from 'cdktf';
import { phase1Pilot } from './phase1-pilot';
import { phase2PayingCustomers } from './phase2-paying-customers';
import { phase3Traction } from './phase3-traction';

/** Every example app, by name: each adds its stacks to the app it is given. */
export const EXAMPLES: Record<string, (app: App) => unknown> = {
  'phase1-pilot': phase1Pilot,
  'phase2-paying-customers': phase2PayingCustomers,
  'phase3-traction': phase3Traction,
};
