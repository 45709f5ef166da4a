import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { cli } from './cli';

// Audit (pipelines): the scaffold's CI had no concurrency (GitHub) or resource group (GitLab). Two pipelines on main
// deployed the same stack at once, and one approved after a newer one, or an old one run again, deployed the older
// commit last: a rollback nobody asked for. Each deploy job now holds its environment's group, is never cancelled
// half-way, and refuses a commit that is no longer the newest of its branch.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
const PRODUCTION_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8xqk9KKFzjyUm7zn9jN8qK6gUimLQcZv8WO+NIigxr ops@acme-production';
const FLAGS = ['--name', 'acme', '--location', 'nbg1', '--admin-key', KEY, '--production-admin-key', PRODUCTION_KEY, '--admin-cidrs', '198.51.100.0/24'];

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'init-deploy-order-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let github: any;
let gitlab: any;
let readme: string;
beforeAll(async () => {
  const dir = path.join(work, 'acme-iac');
  const { code, err } = await cli(['init', dir, ...FLAGS]);
  expect(err).toBe('');
  expect(code).toBe(0);
  github = YAML.parse(fs.readFileSync(path.join(dir, '.github/workflows/infrastructure.yml'), 'utf8'));
  gitlab = YAML.parse(fs.readFileSync(path.join(dir, '.gitlab-ci.yml'), 'utf8'));
  readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
});

/** The stack a job's commands deploy (`cdktf deploy STACK`), if any. */
function deployedStack(commands: unknown): string | undefined {
  return /\bcdktf deploy (acme-\w+)/.exec(JSON.stringify(commands))?.[1];
}

const githubJobs = () => Object.entries<any>(github.jobs);
const gitlabJobs = () => Object.entries<any>(gitlab).filter(([, job]) => typeof job === 'object' && job !== null && job.script !== undefined);

test('on GitHub, each deploy job holds one concurrency group per environment, shared by every run, and is never cancelled in progress', () => {
  const deploys = githubJobs().filter(([, job]) => deployedStack(job.steps.map((s: any) => s.run ?? '')) !== undefined);
  expect(deploys.map(([name]) => name).sort()).toEqual(['deploy-production', 'deploy-test']);
  const groups = new Map<string, string>();
  for (const [name, job] of deploys) {
    const stack = deployedStack(job.steps.map((s: any) => s.run ?? ''))!;
    expect([name, job.concurrency?.['cancel-in-progress']]).toEqual([name, false]);
    const group = job.concurrency?.group;
    // A constant per environment: a group with the run, the commit or the ref in it would never meet another run's.
    expect([name, typeof group]).toEqual([name, 'string']);
    expect([name, group]).not.toEqual([name, expect.stringContaining('${{')]);
    expect([name, group]).toEqual([name, expect.stringContaining(stack)]);
    groups.set(group.toLowerCase(), stack);
  }
  // One group per environment: test's deploy never waits for production's approval, nor the reverse.
  expect(groups.size).toBe(2);
  // No other job joins a deploy's group: GitHub cancels a pending job when another joins, so a daily drift run
  // would cancel a deploy waiting there. No workflow-level group either: a pull request's run would queue behind a deploy.
  for (const [name, job] of githubJobs().filter(([, j]) => !deploys.some(([, d]) => d === j))) {
    expect([name, groups.has(String(job.concurrency?.group ?? job.concurrency ?? '').toLowerCase())]).toEqual([name, false]);
  }
  expect(github.concurrency).toBeUndefined();
});

test('on GitLab, each deploy job holds its environment as its resource group and is not interruptible', () => {
  const deploys = gitlabJobs().filter(([, job]) => deployedStack(job.script) !== undefined);
  expect(deploys.map(([name]) => name).sort()).toEqual(['deploy-production', 'deploy-test']);
  for (const [name, job] of deploys) {
    const environment = deployedStack(job.script)!.replace('acme-', '');
    expect([name, job.resource_group]).toEqual([name, environment]);
    expect([name, job.environment.name]).toEqual([name, environment]);
    // A deploy inherits `interruptible` from .deploy: a newer pipeline's auto-cancel then never stops it half-way.
    expect([name, job.interruptible ?? gitlab[job.extends]?.interruptible]).toEqual([name, false]);
  }
});

/** A repository with two commits on main, as a CI clone of each sees it. */
function repositoryWithTwoCommits(): { origin: string; clone: string; older: string; newest: string } {
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@acme.eu', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const origin = fs.mkdtempSync(path.join(work, 'origin-'));
  git(origin, 'init', '-q', '--bare');
  const clone = fs.mkdtempSync(path.join(work, 'clone-'));
  git(clone, 'init', '-q');
  git(clone, 'remote', 'add', 'origin', origin);
  git(clone, 'commit', '-q', '--allow-empty', '-m', 'older');
  const older = git(clone, 'rev-parse', 'HEAD');
  git(clone, 'commit', '-q', '--allow-empty', '-m', 'newest');
  const newest = git(clone, 'rev-parse', 'HEAD');
  git(clone, 'push', '-q', 'origin', 'HEAD:refs/heads/main');
  git(clone, 'checkout', '-q', '--detach', older);
  return { origin, clone, older, newest };
}

/**
 * Runs a job's check as the runner would (bash, stopping on errors), in `cwd` with `env`; `sh` as a GitLab runner does
 * in an image without bash.
 */
function runCheck(script: string, cwd: string, env: Record<string, string>, shell: 'bash' | 'sh' = 'bash') {
  const args = shell === 'bash' ? ['-eo', 'pipefail', '-c', script] : ['-e', '-c', script];
  return spawnSync(shell, args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: work, ...env } });
}

/** A deploy job's check, from the parsed YAML: the step or script line before any other that reads the stack. */
function githubCheck(job: string): string {
  const steps = github.jobs[job].steps.map((s: any) => s.run ?? '');
  const check = steps.findIndex((run: string) => run.includes('git ls-remote'));
  expect([job, check]).toEqual([job, expect.any(Number)]);
  expect(check).toBeGreaterThanOrEqual(0);
  // Before the deploy, and before the SSH agent gets the environment's admin key.
  expect(check).toBeLessThan(steps.findIndex((run: string) => /cdktf deploy/.test(run)));
  expect(check).toBeLessThan(github.jobs[job].steps.findIndex((s: any) => String(s.uses ?? '').includes('ssh-agent')));
  return steps[check];
}

function gitlabCheck(job: string): string {
  const script: string[] = gitlab[job].script;
  const check = script.findIndex((line) => line.includes('git ls-remote'));
  expect(check).toBeGreaterThanOrEqual(0);
  expect(check).toBeLessThan(script.findIndex((line) => /cdktf deploy/.test(line)));
  return script[check];
}

describe.each(['deploy-test', 'deploy-production'])('%s refuses a commit older than the newest of main', (job) => {
  const stack = job.replace('deploy-', 'acme-');

  test('on GitHub (the checkout of an old run, or of one approved after a newer one)', () => {
    const repo = repositoryWithTwoCommits();
    const env = { GITHUB_REF: 'refs/heads/main' };
    const older = runCheck(githubCheck(job), repo.clone, env);
    expect(older.status).toBe(1);
    expect(older.stderr).toContain(`deploy of ${stack} refused: this pipeline's commit ${repo.older} is not the newest of refs/heads/main (${repo.newest})`);
    expect(older.stderr).toContain(`Fix: deploy from the pipeline of ${repo.newest}`);
    spawnSync('git', ['checkout', '-q', '--detach', repo.newest], { cwd: repo.clone });
    const newest = runCheck(githubCheck(job), repo.clone, env);
    expect([newest.status, newest.stderr]).toEqual([0, '']);
  });

  test('on GitLab, reading the branch from CI_REPOSITORY_URL', () => {
    const repo = repositoryWithTwoCommits();
    // GitLab's clone has no origin to rely on: CI_REPOSITORY_URL (with the job's token) names the repository.
    spawnSync('git', ['remote', 'remove', 'origin'], { cwd: repo.clone });
    const env = { CI_REPOSITORY_URL: repo.origin, CI_COMMIT_BRANCH: 'main' };
    for (const shell of ['bash', 'sh'] as const) {
      const older = runCheck(gitlabCheck(job), repo.clone, env, shell);
      expect([shell, older.status]).toEqual([shell, 1]);
      expect(older.stderr).toContain(`deploy of ${stack} refused: this pipeline's commit ${repo.older} is not the newest of refs/heads/main (${repo.newest})`);
    }
    spawnSync('git', ['checkout', '-q', '--detach', repo.newest], { cwd: repo.clone });
    for (const shell of ['bash', 'sh'] as const) expect([shell, runCheck(gitlabCheck(job), repo.clone, env, shell).status]).toEqual([shell, 0]);
  });

  test('and refuses when it cannot read the branch, rather than deploying blind', () => {
    const repo = repositoryWithTwoCommits();
    spawnSync('git', ['checkout', '-q', '--detach', repo.newest], { cwd: repo.clone });
    const unreadable = runCheck(githubCheck(job), repo.clone, { GITHUB_REF: 'refs/heads/no-such-branch' });
    expect(unreadable.status).toBe(1);
    expect(unreadable.stderr).toContain(`deploy of ${stack} refused: cannot read the newest commit of refs/heads/no-such-branch`);
  });
});

test("the scaffold's README says how overlapping and out-of-order pipelines deploy", () => {
  const section = /^## Overlapping pipelines\n[\s\S]*?(?=\n## )/m.exec(readme)?.[0] ?? '';
  expect(section).not.toBe('');
  // GitHub's group per environment, kept when a deploy runs; GitLab's resource group; and the refusal of an older commit.
  // The groups it names are those the workflows hold.
  for (const job of ['deploy-test', 'deploy-production']) {
    expect(section).toContain(`\`${github.jobs[job].concurrency.group}\``);
    expect(section).toContain(`\`${gitlab[job].resource_group}\``);
  }
  expect(section).toMatch(/`cancel-in-progress: false`/);
  expect(section).toMatch(/`resource_group`/);
  expect(section).toMatch(/not the newest of its branch/);
  expect(section).toMatch(/revert/);
  // The library's README says what the scaffolded CI does too.
  const library = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  expect(library).toMatch(/Its CI deploys each\s+stack one run at a time, never cancelling a deploy under way \(GitHub's `concurrency`, GitLab's `resource_group`\), and\s+refuses to deploy a commit older than main's newest/);
});
