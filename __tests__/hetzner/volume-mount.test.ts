import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DataClass, Environment, Location, Machine, ServerType, Size } from '../../lib';
import { DataVolume } from '../../lib/hetzner/data-volume';
import { synthesizedBundle } from '../../testing/bundle';
import { isRoot, describeWithRealParts } from '../setup/real-parts';
import { ADMIN_CIDRS, ADMIN_KEY, synthJson, testStack } from '../setup/stack';

/** The volume part's mount command as the rollout runs it, for a volume at `/srv/data`. */
function renderedMountCommand(): { deviceFile: string; script: string } {
  const { stack } = testStack('production');
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, location: Location.NBG1,
    sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.SENSITIVE],
  });
  new DataVolume(stack, 'Data', { machine, size: Size.gibibytes(10), mountPath: '/srv/data', withoutBackup: 'scratch space, rebuilt from the app at start' });
  const part = synthesizedBundle(synthJson(stack), 'production-app').parts.find((p) => p.name === 'volume /srv/data')!;
  const [[, , script]] = part.commands as string[][];
  return { deviceFile: part.files[0].path, script };
}

const hasLoopDevices = isRoot && existsSync('/dev/loop-control') && spawnSync('losetup', ['--version']).status === 0;

describeWithRealParts(hasLoopDevices, 'the data volume mount (real ext4 on loop devices)', 'root and loop devices')('mounting a data volume on the machine', () => {
  let dir: string;
  const loops: string[] = [];
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'volume-mount-')); });
  afterAll(() => {
    for (const loop of loops) spawnSync('losetup', ['-d', loop]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh ext4 "volume" behind a loop device, named as Hetzner names volumes in /dev/disk/by-id. */
  function volume(id: number): string {
    const image = join(dir, `volume-${id}.img`);
    spawnSync('truncate', ['-s', '16M', image]);
    expect(spawnSync('mkfs.ext4', ['-q', '-F', image]).status).toBe(0);
    const loop = spawnSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).stdout.trim();
    expect(loop).toMatch(/^\/dev\/loop\d+$/);
    loops.push(loop);
    spawnSync('mkdir', ['-p', join(dir, 'by-id')]);
    const link = join(dir, 'by-id', `scsi-0HC_Volume_${id}`);
    spawnSync('ln', ['-sfn', loop, link]);
    return link;
  }

  /**
   * Runs the rollout's mount command once per device in turn (each a rollout after the volume's device file
   * changed), in a mount namespace of its own whose /etc and /srv are overlays (so /etc/fstab is replaced as on a
   * server, and nothing reaches the build machine's), then what a reboot does: unmount, and mount the first line
   * /etc/fstab has for the mount point (systemd's fstab generator keeps the first and drops a duplicate).
   * Prints each rollout's outcome, the device mounted before and after the reboot, and the fstab lines for /srv/data.
   */
  function rollOutAndReboot(devices: string[]) {
    const { deviceFile, script } = renderedMountCommand();
    const run = mkdtempSync(join(dir, 'run-'));
    const deviceCopy = join(run, 'device');
    const quoted = `'${script.replace(deviceFile, deviceCopy).replace(/'/g, `'\\''`)}'`;
    const rollouts = devices.map((device, i) => [
      `printf '%s\\n' '${device}' > '${deviceCopy}'`,
      `if sh -ec ${quoted} >/dev/null 2>'${run}/err'; then echo "rollout ${i + 1}: ok"; else echo "rollout ${i + 1}: failed: $(cat '${run}/err')"; fi`,
    ].join('\n'));
    const overlay = (target: string, name: string) => [
      `mkdir -p '${run}/${name}-upper' '${run}/${name}-work'`,
      `mount -t overlay overlay -o 'lowerdir=${target},upperdir=${run}/${name}-upper,workdir=${run}/${name}-work' ${target}`,
    ].join('\n');
    const inNamespace = [
      'set -e',
      overlay('/etc', 'etc'),
      'mkdir -p /srv', overlay('/srv', 'srv'),
      // Lines of the server's own, which the rollout must leave as they are.
      `printf '# /srv/data was the scratch disk\\nUUID=0a1b /boot ext4 defaults 0 2\\n' >> /etc/fstab; cp /etc/fstab '${run}/fstab-before'`,
      ...rollouts,
      `if awk '$1 ~ /^#/ || $2 != "/srv/data"' /etc/fstab | cmp -s - '${run}/fstab-before'; then echo 'other lines: kept'; else echo 'other lines: changed'; fi`,
      'echo "mounted: $(findmnt -n -o SOURCE /srv/data || echo none)"',
      'umount /srv/data 2>/dev/null || true',
      'first=$(awk \'$1 !~ /^#/ && $2 == "/srv/data" { print $1; exit }\' /etc/fstab)',
      'mount "$first" /srv/data 2>/dev/null || true',
      'echo "after reboot: $(findmnt -n -o SOURCE /srv/data || echo none)"',
      'awk \'$1 !~ /^#/ && $2 == "/srv/data"\' /etc/fstab',
    ].join('\n');
    const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', inNamespace], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: result.status, stderr: result.stderr }).toMatchObject({ status: 0 });
    return result.stdout;
  }

  const loopOf = (link: string) => spawnSync('readlink', ['-f', link], { encoding: 'utf8' }).stdout.trim();
  const fstabLines = (out: string) => out.split('\n').filter((l) => l.startsWith('/') && l.includes(' /srv/data '));

  test('a replaced volume replaces its fstab line; while the old one is still mounted the rollout stops with the fix, and a reboot mounts the new one', () => {
    const [first, second] = [volume(101), volume(102)];
    const out = rollOutAndReboot([first, second]);
    expect(out).toContain('rollout 1: ok');
    // The old volume's mount outlives its detachment: mounting nothing and resizing the new one offline said "ok".
    expect(out).toMatch(new RegExp(`rollout 2: failed: /srv/data is mounted from ${loopOf(first)}, not from the volume now attached \\(${second}\\).*umount /srv/data.*reboot`));
    expect(out).toContain(`mounted: ${loopOf(first)}`);
    // Before, the old line stayed first, so the server came up without its volume (nofail) after every reboot.
    expect(fstabLines(out)).toEqual([`${second} /srv/data ext4 discard,nofail,defaults 0 2`]);
    expect(out).toContain('other lines: kept');
    expect(out).toContain(`after reboot: ${loopOf(second)}`);
  });

  test('a second rollout of the same volume leaves one fstab line, other lines untouched, and the volume mounted', () => {
    const device = volume(103);
    const out = rollOutAndReboot([device, device]);
    expect(out).toContain('rollout 1: ok\nrollout 2: ok\n');
    expect(fstabLines(out)).toEqual([`${device} /srv/data ext4 discard,nofail,defaults 0 2`]);
    expect(out).toContain('other lines: kept');
    expect(out).toContain(`mounted: ${loopOf(device)}\nafter reboot: ${loopOf(device)}`);
  });
});
