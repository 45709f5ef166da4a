import { parse } from 'yaml';
import { CloudInit } from '../../lib';

describe('CloudInit', () => {
  test('merges parts into one #cloud-config document, in order, without duplicate packages', () => {
    const doc = new CloudInit()
      .addPart({ name: 'base', packages: ['curl', 'unattended-upgrades'], commands: ['echo base'] })
      .addPart({ name: 'backup', packages: ['restic', 'curl'], files: [{ path: '/usr/local/bin/dump', content: '#!/bin/sh\n', permissions: '0755' }], commands: [['systemctl', 'enable', '--now', 'dump.timer']] })
      .render();
    expect(doc.startsWith('#cloud-config\n')).toBe(true);
    const parsed = parse(doc);
    expect(parsed.packages).toEqual(['curl', 'unattended-upgrades', 'restic']);
    expect(parsed.write_files).toEqual([{ path: '/usr/local/bin/dump', content: '#!/bin/sh\n', permissions: '0755', owner: 'root:root' }]);
    expect(parsed.runcmd).toEqual(['echo base', ['systemctl', 'enable', '--now', 'dump.timer']]);
  });

  test('renders the same bytes for the same parts', () => {
    const make = () => new CloudInit().addPart({ name: 'a', packages: ['x'] }).render();
    expect(make()).toBe(make());
  });

  test('fails when two parts share a name or write the same file', () => {
    expect(() => new CloudInit().addPart({ name: 'a' }).addPart({ name: 'a' })).toThrow(/a part named 'a' exists already\. Fix:/);
    const clash = new CloudInit()
      .addPart({ name: 'a', files: [{ path: '/etc/x', content: '1' }] })
      .addPart({ name: 'b', files: [{ path: '/etc/x', content: '2' }] });
    expect(() => clash.render()).toThrow(/two parts write '\/etc\/x'\. Fix:/);
  });
});
