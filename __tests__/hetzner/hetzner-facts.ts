import * as fs from 'fs';
import * as path from 'path';

// The shared reference facts sit beside the repository (../shared/reference). Tests that compare
// against them skip when they are absent, so a team's clone without them still runs.
const FACTS_FILE = path.resolve(__dirname, '..', '..', '..', 'shared', 'reference', 'hetzner-facts.json');

function load(): any {
  return JSON.parse(fs.readFileSync(FACTS_FILE, 'utf8'));
}

export const available = fs.existsSync(FACTS_FILE);
export const locations = (): any[] => (available ? load().locations : []);
export const serverTypes = (): any[] => (available ? load().serverTypes : []);
