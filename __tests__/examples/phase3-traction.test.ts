import * as fs from 'fs';
import * as path from 'path';
import { phase3Traction } from '../../examples/phase3-traction';
import { resources, synthExample } from './synth-examples';

const { outdir, stacks } = synthExample(phase3Traction);

describe('example phase3-traction', () => {
  test('has test, staging and production, all in Nuremberg with state there too', () => {
    expect(Object.keys(stacks)).toEqual(['phase3-traction-production', 'phase3-traction-staging', 'phase3-traction-test']);
    for (const stack of Object.values(stacks)) {
      for (const r of resources(stack, 'hcloud_server')) expect(r.location).toBe('nbg1');
      expect(stack.terraform.backend.s3.endpoints.s3).toBe('https://nbg1.your-objectstorage.com');
    }
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
