import * as fs from 'fs';
import * as path from 'path';
import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { resources, synthExample } from './synth-examples';

const { outdir, stacks } = synthExample(phase2PayingCustomers);

describe('example phase2-paying-customers', () => {
  test('keeps two environments alive and rehearses on the test machine: no staging stack', () => {
    expect(Object.keys(stacks)).toEqual(['phase2-paying-production', 'phase2-paying-test']);
  });

  test('production grows to the Phase 2 preset and stays protected', () => {
    const [server] = resources(stacks['phase2-paying-production'], 'hcloud_server');
    expect(server).toMatchObject({ server_type: 'cx43', delete_protection: true, rebuild_protection: true, backups: true, location: 'fsn1' });
    expect(server.lifecycle.prevent_destroy).toBe(true);
    expect(resources(stacks['phase2-paying-test'], 'hcloud_server')[0].server_type).toBe('cx23');
  });

  test('the postponed list requires offsite backup and host observability, and allows volumes', () => {
    const postponed = JSON.parse(fs.readFileSync(path.join(outdir, 'products', 'phase2-paying', 'postponed.json'), 'utf8'));
    expect(postponed.required.map((r: any) => r.component)).toEqual(expect.arrayContaining(['offsite-backup', 'host-observability']));
    expect(postponed.postponed.map((e: any) => e.component)).not.toContain('data-volume');
    expect(postponed.postponed.map((e: any) => e.component)).toContain('kubernetes');
  });

  // boundary.md said sensitive and secret data "never leave the EU control plane" beside production's offsite copy at
  // Scaleway: the published boundary now names that copy and its form, as the operator's report does.
  test('the published boundary names the offsite backup copy the sensitive and secret data leave to, encrypted', () => {
    const doc = fs.readFileSync(path.join(outdir, 'products', 'phase2-paying', 'boundary.md'), 'utf8');
    for (const dataClass of ['sensitive', 'secret']) {
      expect(doc).toContain(`| ${dataClass} | S3 bucket at Scaleway (FR): backup copies only | encrypted on the machine (restic) before it leaves |`);
      expect(doc).not.toContain(`| ${dataClass} | nobody: never leaves the EU control plane | never |`);
    }
    expect(doc).toContain('| pseudonymized | Mistral AI (Paris, FR), GlitchTip (self-hosted) (Berlin, DE) | pseudonymized |');
  });

  test.each(['phase2-paying-test', 'phase2-paying-production'])('%s matches its snapshot', (name) => {
    expect(stacks[name]).toMatchSnapshot();
  });
});
