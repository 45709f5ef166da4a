import * as fs from 'fs';
import * as path from 'path';
import { phase3Traction } from '../../examples/phase3-traction';
import { App } from 'cdktf';
import { estimateCost } from '../../lib';
import { reportModelOf } from '../../lib/report/report-model';
import { synthesizedBundle } from '../../testing/bundle';
import { resources, synthExample } from './synth-examples';

const { outdir, stacks } = synthExample(phase3Traction);

describe('example phase3-traction', () => {
  test('test runs in Falkenstein, production and staging in Nuremberg, state in Nuremberg', () => {
    expect(Object.keys(stacks)).toEqual(['phase3-traction-production', 'phase3-traction-staging', 'phase3-traction-test']);
    const expected: Record<string, string> = { 'phase3-traction-test': 'fsn1', 'phase3-traction-staging': 'nbg1', 'phase3-traction-production': 'nbg1' };
    for (const [name, stack] of Object.entries(stacks)) {
      const servers = resources(stack, 'hcloud_server');
      expect(servers.length).toBeGreaterThan(0);
      for (const r of servers) expect(r.location).toBe(expected[name]);
      for (const r of resources(stack, 'hcloud_primary_ip')) expect(r.location).toBe(expected[name]);
      for (const r of resources(stack, 'hcloud_volume')) expect(r.location).toBe(expected[name]);
      expect(stack.terraform.backend.s3.endpoints.s3).toBe('https://nbg1.your-objectstorage.com');
    }
  });

  test("the Storage Box stays out of production's location", () => {
    const [box] = resources(stacks['phase3-traction-production'], 'hcloud_storage_box');
    expect(box.location).not.toBe('nbg1');
    expect(['fsn1', 'hel1']).toContain(box.location);
  });

  test('the environments document, the boundary document, the cost estimate and the report agree on each location', () => {
    const environments = JSON.parse(fs.readFileSync(path.join(outdir, 'products', 'phase3-traction', 'environments.json'), 'utf8'));
    expect(Object.fromEntries(environments.environments.map((e: any) => [e.environment, e.location]))).toEqual({ test: 'fsn1', staging: 'nbg1', production: 'nbg1' });
    const boundary = fs.readFileSync(path.join(outdir, 'products', 'phase3-traction', 'boundary.md'), 'utf8');
    expect(boundary).toMatch(/phase3-traction-test: hcloud_server phase3-traction-test-app \(fsn1\)/);
    expect(boundary).toMatch(/phase3-traction-production: hcloud_server phase3-traction-production-app \(nbg1\)/);
    const holdings = boundary.split(/<br>|\|/).map((h) => h.trim());
    expect(holdings.filter((h) => h.startsWith('phase3-traction-test:') && h.includes('(nbg1)'))).toEqual([]);
    expect(holdings.filter((h) => h.startsWith('phase3-traction-production: hcloud_') && h.includes('(fsn1)'))).toEqual([]);

    const app = new App({ outdir: fs.mkdtempSync(path.join(require('os').tmpdir(), 'p3-')) });
    phase3Traction(app);
    const cost = estimateCost(app);
    const servers = cost.products.flatMap((p) => p.environments).flatMap((e) => e.lines.filter((l) => l.kind === 'server').map((l) => [e.stack, l.location]));
    expect(servers).toEqual(expect.arrayContaining([['phase3-traction-test', 'fsn1'], ['phase3-traction-production', 'nbg1']]));
    expect(servers.filter(([e]) => e === 'phase3-traction-test').every(([, l]) => l === 'fsn1')).toBe(true);
    const report = reportModelOf(app);
    const machines = report.products.flatMap((p) => p.environments.flatMap((e) => e.machines.map((m) => [e.environment, m.location])));
    expect(machines).toEqual(expect.arrayContaining([['test', 'fsn1'], ['production', 'nbg1']]));
    for (const [environment, location] of machines) expect(location).toBe(environment === 'test' ? 'fsn1' : 'nbg1');
  });

  test("production's PostgreSQL data directory is on a volume that the dumps cover", () => {
    const production = stacks['phase3-traction-production'];
    const [volume] = resources(production, 'hcloud_volume');
    expect(volume).toMatchObject({ name: 'phase3-traction-production-postgresql', size: 50, delete_protection: true });
    const bundle = synthesizedBundle(production, 'phase3-traction-production-app');
    expect(bundle.files.get('/etc/postgresql/15/main/conf.d/50-sovereign.conf')!.content).toMatch(/^data_directory = '\/srv\/postgresql\/15\/main'$/m);
    expect(bundle.files.get('/etc/sovereign/postgres/setup.json')!.content).toMatch(/"requireMount": "\/srv\/postgresql"/);
    // The mount runs before the database's setup.
    const names = bundle.parts.map((p) => p.name);
    expect(names.indexOf('volume /srv/postgresql')).toBeLessThan(names.indexOf('postgresql 15'));
    expect(bundle.files.get('/etc/sovereign-backup/backup.conf')?.template ?? bundle.files.get('/etc/sovereign-backup/backup.conf')?.content ?? '').toMatch(/PG_PORT=.?5432/);
    // The test machine keeps the root disk.
    const test = synthesizedBundle(stacks['phase3-traction-test'], 'phase3-traction-test-app');
    expect(test.files.get('/etc/postgresql/15/main/conf.d/50-sovereign.conf')!.content).not.toMatch(/data_directory/);
    expect(resources(stacks['phase3-traction-test'], 'hcloud_volume')).toEqual([]);
  });

  test('production runs on dedicated vCPUs and keeps its disk on rescale', () => {
    const [server] = resources(stacks['phase3-traction-production'], 'hcloud_server');
    expect(server).toMatchObject({ server_type: 'ccx23', keep_disk: true, delete_protection: true });
  });

  test('the roadmap records self-hosted inference as a decision point, not a build', () => {
    const postponed = JSON.parse(fs.readFileSync(path.join(outdir, 'products', 'phase3-traction', 'postponed.json'), 'utf8'));
    expect(postponed.decisionPoints.join()).toMatch(/Self-hosted inference/);
    expect(postponed.postponed.map((e: any) => e.component)).toContain('self-hosted-inference');
    expect(postponed.required.map((r: any) => r.component)).toContain('monitoring-machine');
  });

  test.each(['phase3-traction-test', 'phase3-traction-staging', 'phase3-traction-production'])('%s matches its snapshot', (name) => {
    expect(stacks[name]).toMatchSnapshot();
  });
});
