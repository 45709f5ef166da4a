import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { DataClass, DataFlow, EGRESS_RULESET, EgressAllowlist, EgressForm, REFRESH_SCRIPT } from '../../lib';
import { checkedStack, jina, machine, mistral, policy } from './fixtures';

describe('EgressAllowlist', () => {
  test('turns the firewall to deny-by-default egress with only DNS, NTP, HTTP(S) and Storage Box SSH', () => {
    const m = machine(checkedStack());
    expect(m.egressRules.map((r) => `${r.protocol} ${r.port}`)).toEqual(['udp 53', 'tcp 53', 'udp 123', 'tcp 80', 'tcp 443', 'tcp 23']);
  });

  test('allowlists mirrors and exactly the processors the policy allows for the declared flows', () => {
    const m = machine(checkedStack());
    DataFlow.declare(m, { processor: mistral, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED });
    DataFlow.declare(m, { processor: jina, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED }); // not allowed
    expect(EgressAllowlist.hostnamesFor(m, { policy, hostnames: ['u123.your-storagebox.de'] }))
      .toEqual(['deb.debian.org', 'security.debian.org', 'u123.your-storagebox.de', 'api.mistral.ai']);
    const doc = parse(m.cloudInit.render());
    const hosts = doc.write_files.find((f: any) => f.path === '/etc/sovereign/egress-hostnames').content;
    expect(hosts).toBe('deb.debian.org\nsecurity.debian.org\napi.mistral.ai\n');
  });

  test('is required only for machines holding sensitive or secret data', () => {
    const stack = checkedStack();
    expect(EgressAllowlist.isRequiredFor(machine(stack, 'A', { dataClasses: [DataClass.PUBLIC, DataClass.PSEUDONYMIZED] }, false))).toBe(false);
    expect(EgressAllowlist.isRequiredFor(machine(stack, 'B', { dataClasses: [DataClass.SECRET] }, false))).toBe(true);
  });

  // In CI the tools are installed by .ci/run, so a missing one fails instead of skipping.
  const nft = spawnSync('nft', ['--version']).status === 0 || process.env.CI ? test : test.skip;
  nft('renders an nftables ruleset that nft itself accepts', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nft-')), 'egress.nft');
    fs.writeFileSync(file, EGRESS_RULESET);
    expect(() => execFileSync('nft', ['-c', '-f', file], { stdio: 'pipe' })).not.toThrow();
  });

  const cloudInit = spawnSync('cloud-init', ['--version']).status === 0 || process.env.CI ? test : test.skip;
  cloudInit("renders user data that Debian's cloud-init schema validates", () => {
    const m = machine(checkedStack());
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ci-')), 'user-data');
    fs.writeFileSync(file, m.cloudInit.render());
    const result = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toMatch(/Valid cloud-config/);
    expect(result.status).toBe(0);
  });
});

describe('the refresh script, run for real in a private network namespace', () => {
  const canRun = spawnSync('unshare', ['-n', 'nft', 'list', 'ruleset']).status === 0 || process.env.CI ? test : test.skip;

  function run(hosts: string, answers: Record<string, string>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-'));
    fs.writeFileSync(path.join(dir, 'ruleset.nft'), EGRESS_RULESET);
    fs.writeFileSync(path.join(dir, 'hosts'), hosts);
    fs.writeFileSync(path.join(dir, 'refresh'), REFRESH_SCRIPT, { mode: 0o755 });
    // A stand-in dig answers from a table, so the test needs no DNS.
    const table = Object.entries(answers).map(([q, a]) => `"${q}") printf '%b' "${a}" ;;`).join('\n');
    fs.writeFileSync(path.join(dir, 'dig'), `#!/bin/sh\ncase "$2 $3" in\n${table}\n*) ;;\nesac\n`, { mode: 0o755 });
    const script = `nft -f ${dir}/ruleset.nft && EGRESS_HOSTNAMES_FILE=${dir}/hosts ${dir}/refresh; rc=$?; nft list table inet sovereign_egress; exit $rc`;
    return spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  }

  canRun('fills the sets with the addresses of the allowlisted hostnames', () => {
    const result = run('deb.debian.org\napi.mistral.ai\n', {
      'A deb.debian.org': '151.101.2.132\\n151.101.66.132\\n', 'AAAA deb.debian.org': '2a04:4e42::644\\n',
      'A api.mistral.ai': '104.18.10.20\\n', 'AAAA api.mistral.ai': '',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/allowed_v4 \{[\s\S]*elements = \{[^}]*104\.18\.10\.20[^}]*151\.101\.2\.132[^}]*\}/);
    expect(result.stdout).toMatch(/allowed_v6 \{[\s\S]*elements = \{ 2a04:4e42::644 \}/);
  });

  canRun('fails, and opens nothing for it, when a hostname does not resolve', () => {
    const result = run('nowhere.invalid\n', {});
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/sovereign-egress: nowhere\.invalid does not resolve/);
    expect(result.stdout).not.toMatch(/elements =/);
  });
});
