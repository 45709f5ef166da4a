import * as fs from 'fs';
import * as path from 'path';

// The reference facts (locations, server types, prices with their sources), kept in the repository so
// that every clone runs the tests that compare against them. The team's shared copy, where it sits beside
// the repository (../shared/reference), must be the same: catalogs.test.ts says so when it is not.
export const FACTS_FILE = path.resolve(__dirname, 'reference', 'hetzner-facts.json');
// Facts the repository relies on that the shared copy does not hold yet, each with its sources (see its "about").
export const FACTS_BEYOND_SHARED_FILE = path.resolve(__dirname, 'reference', 'hetzner-facts-beyond-shared.json');
export const SHARED_FACTS_FILE = path.resolve(__dirname, '..', '..', '..', 'shared', 'reference', 'hetzner-facts.json');

function load(): any {
  return JSON.parse(fs.readFileSync(FACTS_FILE, 'utf8'));
}

export const available = true;
export const locations = (): any[] => (available ? load().locations : []);
export const serverTypes = (): any[] => (available ? load().serverTypes : []);
