import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { synthesizedBundle } from '../../testing/bundle';

// docs/backup.md tells the operator of a lost production where each secret a restore needs is: which `TF_VAR_…`,
// whether production's Terraform state holds it (the docs used to say that the state holds every secret's value:
// the restic password, the S3 keys and the database password reach the machine only through the rollout's
// provisioners, which Terraform does not record), and which copy the test machine holds. The table is held to the
// synthesized stacks of the Phase 2 example (a Storage Box and an offsite bucket).

const ROOT = path.resolve(__dirname, '..', '..');
const MARKER = '<!-- secrets-after-a-loss:';

interface Row { readonly what: string; readonly variables: string[]; readonly inState: boolean; readonly alsoOn: string }

function table(): Row[] {
  const text = fs.readFileSync(path.join(ROOT, 'docs', 'backup.md'), 'utf8');
  const start = text.indexOf(MARKER);
  expect(start).toBeGreaterThan(-1);
  const lines = text.slice(start).split('\n').slice(1);
  const rows = lines.slice(2, lines.findIndex((l, i) => i > 0 && !l.startsWith('|')));
  return rows.map((line) => {
    const [what, variables, inState, alsoOn] = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    expect(inState).toMatch(/^(yes|no)\b/);
    return { what, variables: [...variables.matchAll(/`(\w+)`/g)].map((m) => m[1]), inState: inState.startsWith('yes'), alsoOn };
  });
}

/** `text` without the arguments of its sha256(…) calls: a digest of a value is not the value. */
function withoutDigests(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('sha256(', i);
    if (at === -1) { out += text.slice(i); break; }
    out += text.slice(i, at);
    let depth = 0;
    let j = at + 'sha256'.length;
    do {
      if (text[j] === '(') depth++;
      else if (text[j] === ')') depth--;
      j++;
    } while (depth > 0 && j < text.length);
    i = j;
  }
  return out;
}

/**
 * The variables whose values Terraform keeps in the state: those a resource's arguments hold (outside a digest). Provisioners,
 * their connection, lifecycle conditions and dependencies are configuration, never recorded in the state.
 */
function variablesInState(json: any): Set<string> {
  const found = new Set<string>();
  for (const resources of Object.values<any>(json.resource ?? {})) {
    for (const r of Object.values<any>(resources)) {
      const { provisioner, connection, lifecycle, depends_on: dependsOn, ...args } = r;
      for (const m of withoutDigests(JSON.stringify(args)).matchAll(/var\.(\w+)/g)) found.add(m[1]);
    }
  }
  return found;
}

describe('docs/backup.md, "Production is lost: what a restore needs, and where it is"', () => {
  const app = Testing.app({ stackTraces: false });
  const stacks = phase2PayingCustomers(app);
  const production = JSON.parse(Testing.synth(stacks.production, true));
  const testStack = JSON.parse(Testing.synth(stacks.test, true));
  const rows = table();

  test("names production's variables, and says truly whether the state holds each", () => {
    const declared = Object.keys(production.variable ?? {});
    const inState = variablesInState(production);
    for (const row of rows) {
      for (const name of row.variables) {
        expect(declared).toContain(name);
        expect(`${name}: ${inState.has(name) ? 'in the state' : 'not in the state'}`).toBe(`${name}: ${row.inState ? 'in the state' : 'not in the state'}`);
      }
    }
    // The restic password is the one without which the backups are lost: the state is no copy of it.
    expect(inState.has('restic_password')).toBe(false);
  });

  test('leaves out no secret of the backups or the database', () => {
    const named = new Set(rows.flatMap((r) => r.variables));
    const needed = Object.keys(production.variable ?? {}).filter((n) => /restic|storage_box|offsite|backup|database/.test(n));
    expect(needed.filter((n) => !named.has(n))).toEqual([]);
  });

  test("the copies it says the test machine holds are in the test machine's bundle", () => {
    const files = [...synthesizedBundle(testStack, 'phase2-paying-test-app').files.keys()];
    const said = rows.flatMap((r) => [...r.alsoOn.matchAll(/`(\/etc\/sovereign-backup\/[^`]+)`/g)].map((m) => m[1]));
    expect(said.length).toBeGreaterThanOrEqual(3);
    for (const file of said) expect(files).toContain(file);
    // The drill's copy of the restic password is production's own variable, and its bucket key a read-only one of its own.
    expect(Object.keys(testStack.variable)).toEqual(expect.arrayContaining(['restic_password', 'production_offsite_s3_access_key_id']));
    expect(Object.keys(testStack.variable)).not.toContain('offsite_s3_access_key_id');
  });
});
