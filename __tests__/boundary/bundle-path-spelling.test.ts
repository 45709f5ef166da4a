import { Testing } from 'cdktf';
import { CloudInit } from '../../lib/hetzner/cloud-init';
import { checkedStack, machine, synthErrors } from './fixtures';
import { refusal } from './refusal';

// Audit (the allowlist's own files): a bundle refuses a second part writing a file another part writes, comparing
// paths as written. `/etc/nftables.d//sovereign-egress.nft` (or `/./`, `x/../`, a trailing `/`) is the same file on
// the machine under another name: a part writing it passed synth, and the rollout agent, keying files by the text,
// wrote both; whichever came last was the ruleset the boot unit loads, with `delete table` in it no table at all.

const EMPTY_TABLE = 'table inet sovereign_egress\ndelete table inet sovereign_egress\n';

describe('a file path is written one way only', () => {
  test.each([
    ['/etc/nftables.d//sovereign-egress.nft', '/etc/nftables.d/sovereign-egress.nft'],
    ['/etc/nftables.d/./sovereign-egress.nft', '/etc/nftables.d/sovereign-egress.nft'],
    ['/etc/acme/../nftables.d/sovereign-egress.nft', '/etc/nftables.d/sovereign-egress.nft'],
    ['/etc/sovereign/egress-hostnames/', '/etc/sovereign/egress-hostnames'],
    ['etc/sovereign/egress-hostnames', '/etc/sovereign/egress-hostnames'],
  ])('a bundle part writing %s is refused, naming the part, the path and its one spelling', (path, normal) => {
    const stack = checkedStack();
    const m = machine(stack);
    expect(refusal(() => m.addBundlePart({ name: 'tuning', files: [{ path, content: EMPTY_TABLE }] }))).toBe(
      `production/App.bundle.part(tuning).files[0].path: '${path}' is not allowed: a file path is absolute and written one way only (no //, ./, ../ or trailing /): `
      + "under another spelling, two parts could write one file, the later one replacing the other's (the egress allowlist's ruleset among them). "
      + `Fix: write it as '${normal}'`);
  });

  // A part's runtime files are removed by the agent when the part goes: a relative or doubled path would remove another file.
  test('a runtime file (what the agent removes with its part) is held to the same', () => {
    const m = machine(checkedStack());
    expect(refusal(() => m.addBundlePart({ name: 'check', runtimeFiles: ['var/lib/prometheus/node-exporter/check.prom'] }))).toMatch(
      /^production\/App\.bundle\.part\(check\)\.runtimeFiles\[0\]: 'var\/lib\/prometheus\/node-exporter\/check\.prom' is not allowed: .*Fix: write it as '\/var\/lib\/prometheus\/node-exporter\/check\.prom'$/);
  });

  test('first-boot cloud-init parts (from JavaScript too) are held to the same', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    expect(refusal(() => m.addCloudInitPart({ name: 'motd', files: [{ path: '/etc//motd', content: 'acme\n' }] } as never))).toMatch(/^production\/App\.cloudInit\.part\(motd\)\.files\[0\]\.path: '\/etc\/\/motd' is not allowed/);
    expect(refusal(() => new CloudInit('doc').addPart({ name: 'motd', files: [{ path: '/etc/./motd', content: 'acme\n' }] }))).toMatch(/Fix: write it as '\/etc\/motd'$/);
  });

  test('paths written one way still pass, and the allowlist keeps its ruleset', () => {
    const stack = checkedStack();
    const m = machine(stack);
    m.addBundlePart({ name: 'tuning', files: [{ path: '/etc/nftables.d/acme-extra.nft', content: '# nothing\n' }] });
    expect(synthErrors(stack)).toBe('');
    Testing.synth(stack, true);
    const ruleset = [...m.bundle.files().values()].filter((f) => f.file.path.endsWith('sovereign-egress.nft'));
    expect(ruleset.map((f) => f.part)).toEqual(['egress-allowlist']);
  });
});
