import { parse } from 'yaml';
import { CloudInit } from '../../lib';
import { refusal } from '../boundary/refusal';

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

  test('refuses, when the part is added, two parts that share a name or write the same file', () => {
    expect(refusal(() => new CloudInit().addPart({ name: 'a' }).addPart({ name: 'a' })))
      .toMatch(/^CloudInit\.part\.name: 'a' is not allowed: the document has a part of that name already \('a'\)\. Fix: give each part its own name/);
    const doc = new CloudInit().addPart({ name: 'a', files: [{ path: '/etc/x', content: '1' }] });
    // Before, the second part was taken and the document failed only when it rendered, naming no construct.
    expect(refusal(() => doc.addPart({ name: 'b', files: [{ path: '/etc/x', content: '2' }] })))
      .toMatch(/^CloudInit\.part\(b\)\.files\[0\]\.path: '\/etc\/x' is not allowed: part 'a' writes it already.*Fix: let one part own each file/);
    expect(refusal(() => new CloudInit().addPart({ name: 'c', files: [{ path: '/etc/y', content: '1' }, { path: '/etc/y', content: '2' }] })))
      .toMatch(/^CloudInit\.part\(c\)\.files\[1\]\.path: '\/etc\/y' is not allowed: the part writes it already/);
    expect(doc.partNames).toEqual(['a']);
  });
});
