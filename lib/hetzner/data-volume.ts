import { Construct, IConstruct } from 'constructs';
import { TerraformStack, Token } from 'cdktf';
import { Volume } from '../../generated/providers/hcloud/volume';
import { VolumeAttachment } from '../../generated/providers/hcloud/volume-attachment';
import { DataClass } from '../core/data-class';
import { isReason, REASON_RULE } from '../core/reason';
import { Retirement } from '../core/retirement';
import { Size } from '../core/size';
import { invalidValue, ValidationError } from '../core/validation-message';
import { checkProps, is, propNames } from '../core/runtime-checks';
import { frozenSnapshot } from '../core/private/frozen-snapshot';
import { IMachine } from './machine';
import { requireMachine } from './private/require-machine';
import { checkUniquePerProject } from './private/project-uniqueness';
import { labelErrors, standardLabels, withUserLabels } from './private/standard-labels';
import { volumeBackupsOf } from './private/volume-coverage';
import { guardStack } from '../core/private/guard-stack';

/** What a data volume is made of: its machine, size and mount path. */
export interface DataVolumeProps {
  /** The machine the volume is attached to; the volume is created in its location. */
  readonly machine: IMachine;
  /** Size, 10 GiB to 10 TiB in whole GiB. Volumes can grow but never shrink. */
  readonly size: Size;
  /**
   * Where the volume is mounted.
   * @default `/mnt/${id in lowercase}`
   */
  readonly mountPath?: string;
  /**
   * Volume name, unique in the Hetzner project.
   * @default `${machine.serverName}-${id in lowercase}`
   */
  readonly name?: string;
  /**
   * The data classes the volume holds; they become labels.
   * @default - the machine's data classes
   */
  readonly dataClasses?: DataClass[];
  /**
   * Why the volume needs no backup (a cache, or scratch data that is rebuilt from elsewhere), in
   * at least 20 letters, 8 of them different (spaces, digits and punctuation do not count). Hetzner's
   * server backups and snapshots skip volumes, so without this a volume must be covered by a dump or
   * file backup of a `BackupPlan`, or synth fails.
   * @default - the volume holds data that must be backed up
   */
  readonly withoutBackup?: string;
  /**
   * Extra labels.
   * @default - only the standard labels
   */
  readonly labels?: Record<string, string>;
}

/** Hetzner attaches at most 16 volumes to a server (reference facts: limits.perServer.volumes, from its servers overview). */
const VOLUMES_PER_SERVER = 16;
const MIN_GIB = 10;
const MAX_GIB = 10 * 1024;
const MOUNT_PATH = /^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/**
 * The newest attachment to each machine. The next volume's attachment waits for it: Hetzner locks a server while
 * it attaches a volume, and the provider does not retry `locked` on every path (reference pitfalls, 14).
 */
const lastAttachment = new WeakMap<IMachine, VolumeAttachment>();
const DATA_VOLUME_PROPS = propNames<DataVolumeProps>({ machine: true, size: true, mountPath: true, name: true, dataClasses: true, withoutBackup: true, labels: true });

/**
 * A Hetzner Cloud volume for a machine's data, attached and mounted.
 *
 * - Created in the machine's location (a volume cannot move) and attached with
 *   `hcloud_volume_attachment`, `automount` off: the machine's bundle waits for the device and mounts it
 *   by its stable `/dev/disk/by-id` name through `/etc/fstab` with `nofail`, so a missing volume never
 *   blocks a boot. Formatted ext4 once, at creation; a larger `size` grows the file system on the next deploy.
 *   The attachments of one machine's volumes are made one after another (Hetzner locks the server during each).
 * - In production: delete protection and `prevent_destroy`.
 * - Hetzner's server backups and snapshots do not include volumes. Synth fails unless a dump or
 *   file backup covers the volume, or `withoutBackup` says why it needs none.
 *
 * The mount is a part of the machine's bundle, so a volume added to a running machine (production's
 * included, whose user data is read only at creation) is mounted by the next deploy.
 */
export class DataVolume extends Construct {
  /** The `hcloud_volume` resource. */
  public readonly volume: Volume;
  /** The `hcloud_volume_attachment` resource. */
  public readonly attachment: VolumeAttachment;
  /** The machine the volume is attached to. */
  public readonly machine: IMachine;
  /** The volume's size. */
  public readonly size: Size;
  /** Where the volume is mounted on the machine. */
  public readonly mountPath: string;
  /** The device as the machine sees it (a token until apply). */
  public readonly devicePath: string;
  /** The data classes the volume holds. */
  public readonly dataClasses: readonly DataClass[];

  /** Creates, attaches and mounts the volume; fails on a size, mount path or opt-out Hetzner or the operating model refuse. */
  constructor(scope: Construct, id: string, props: DataVolumeProps) {
    super(scope, id);
    guardStack(this);
    // Hetzner names it once per project, and other stacks of the App may deploy to this one (staging to production's).
    checkUniquePerProject(this);
    // Copied first, each prop read once, then checked and kept: a JavaScript getter could otherwise answer the check
    // with one value and the build (or the synth-time backup check) with another.
    props = frozenSnapshot(props, DATA_VOLUME_PROPS);
    requireMachine(this, 'machine', props?.machine);
    checkProps<DataVolumeProps>(this, props, {
      machine: is.checkedLater(),
      size: is.instance(Size, 'use Size.gibibytes(10)'),
      mountPath: is.optional(is.text("use a path such as '/srv/data'")),
      name: is.optional(is.text("name it such as 'acme-production-data'")),
      dataClasses: is.optional(is.list(is.instance(DataClass, 'use DataClass.PUBLIC, PSEUDONYMIZED, SENSITIVE or SECRET'), 'list data classes such as [DataClass.SENSITIVE]')),
      withoutBackup: is.optional(is.text("say why it needs no backup, such as 'scratch space, rebuilt on demand'")),
      labels: is.optional(is.textMap("write labels such as { team: 'ml' }")),
    }, 'pass { machine, size: Size.gibibytes(10) }');
    this.machine = props.machine;
    this.size = props.size;
    this.mountPath = props.mountPath ?? `/mnt/${id.toLowerCase()}`;
    this.dataClasses = props.dataClasses ?? props.machine.dataClasses;
    const isProtected = Retirement.keepsProtection(scope, props.machine.environment.protectedFromLoss);

    const gib = props.size.toMebibytes() / 1024;
    if (!Number.isInteger(gib) || gib < MIN_GIB || gib > MAX_GIB) {
      throw new ValidationError(invalidValue(this, 'size', props.size, 'Hetzner volumes are 10 GiB to 10 TiB, in whole GiB',
        'pass a size such as Size.gibibytes(50)'));
    }
    if (!MOUNT_PATH.test(this.mountPath) || this.mountPath.split('/').includes('..')) {
      throw new ValidationError(invalidValue(this, 'mountPath', this.mountPath, 'a mount path is an absolute directory without spaces, "..", or a trailing "/"',
        'use a path such as "/mnt/data" or "/var/lib/postgresql"'));
    }
    // Letters, not characters: 20 zero-width spaces opted a volume out of backups with nothing for a reader to check.
    if (props.withoutBackup !== undefined && !isReason(props.withoutBackup)) {
      throw new ValidationError(invalidValue(this, 'withoutBackup', props.withoutBackup,
        `opting a volume out of backups needs a specific reason of at least 20 characters (${REASON_RULE})`,
        'say why losing its data is harmless, such as "model cache, re-downloaded at start"'));
    }

    // The standard labels win: the boundary rules and the staging reaper read them.
    const labels = withUserLabels(this.node.path, props.machine.environment,
      standardLabels({ environment: props.machine.environment, role: `${props.machine.role}-volume`, dataClasses: this.dataClasses }), props.labels);
    this.volume = new Volume(this, 'Resource', {
      name: props.name ?? `${props.machine.serverName}-${id.toLowerCase()}`,
      size: gib,
      location: props.machine.location.name,
      format: 'ext4',
      // Attached through hcloud_volume_attachment; automount is unreliable on create and on server replacement.
      automount: false,
      labels,
      deleteProtection: isProtected,
      lifecycle: isProtected ? { preventDestroy: true } : undefined,
    });
    const previous = lastAttachment.get(props.machine);
    this.attachment = new VolumeAttachment(this, 'Attachment', {
      volumeId: Token.asNumber(this.volume.id),
      serverId: Token.asNumber(props.machine.server.id),
      automount: false,
      // One attachment to a server at a time; only within a stack, where Terraform can order them.
      dependsOn: previous && TerraformStack.of(previous) === TerraformStack.of(this) ? [previous] : undefined,
    });
    lastAttachment.set(props.machine, this.attachment);
    this.devicePath = `/dev/disk/by-id/scsi-0HC_Volume_${this.volume.id}`;

    // The device path holds the volume's id, known at deploy: it travels in a file, not in the command.
    const deviceFile = `/etc/sovereign/volumes/${this.mountPath.replace(/^\//, '').replace(/\//g, '-')}.device`;
    props.machine.addBundlePart({
      name: `volume ${this.mountPath}`,
      files: [{ path: deviceFile, content: `${this.devicePath}\n` }],
      commands: [['sh', '-c', mountScript(deviceFile, this.mountPath, gib)]],
    });

    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        // Hetzner refuses the attachment only when Terraform makes it, part-way through a deploy.
        const onMachine = this.node.root.node.findAll().filter((c): c is DataVolume => c instanceof DataVolume && c.machine === this.machine);
        if (onMachine.indexOf(this) >= VOLUMES_PER_SERVER) {
          errors.push(invalidValue(this, 'machine', props.machine.node.path,
            `it is volume ${onMachine.indexOf(this) + 1} of ${onMachine.length} on that machine, and Hetzner attaches at most ${VOLUMES_PER_SERVER} volumes to a server`,
            'keep the data of several mount paths on one larger volume (a volume grows to 10 TiB), or put some of it on another machine'));
        }
        errors.push(...labelErrors(this, labels));
        if (props.withoutBackup === undefined && !this.coveringBackup()) {
          errors.push(invalidValue(this, 'mountPath', this.mountPath,
            `Hetzner server backups and snapshots do not include attached volumes, and no dump or file backup covers this volume on ${props.machine.node.path}`,
            `back it up: plan.protect(machine, { paths: ['${this.mountPath}'] }), or a PostgresDump whose dataDirectory is on the volume; `
            + 'or pass withoutBackup with the reason its data may be lost'));
        }
        return errors;
      },
    });
  }

  /** The backup construct that covers this volume, if any. */
  public coveringBackup(): IConstruct | undefined {
    const m = this.mountPath;
    const inside = (path: string, dir: string) => path === dir || path.startsWith(`${dir.replace(/\/+$/, '')}/`);
    const found = volumeBackupsOf(this.machine).find((c) =>
      (c.filePaths ?? []).some((p) => inside(m, p))
      || (c.databaseDirectories ?? []).some((d) => inside(d, m) || inside(m, d)));
    return found?.by;
  }
}

/**
 * Waits for the device (attachment happens after the server exists), mounts it through fstab, and grows the
 * file system to the volume (Hetzner grows the device only). The size is in the command, so a resize reruns it.
 * Idempotent: resize2fs of a file system that fills its device changes nothing.
 */
function mountScript(deviceFile: string, mountPath: string, gib: number): string {
  // An fstab line (not a comment) that mounts another device at this mount point.
  const otherLine = '$1 !~ /^#/ && $2 == dir && $1 != dev';
  return [
    `dev=$(cat ${deviceFile}); dir=${mountPath}; i=0`,
    'while [ ! -e "$dev" ] && [ "$i" -lt 150 ]; do sleep 2; i=$((i+1)); done',
    '[ -e "$dev" ] || { echo "volume $dev did not appear within 5 minutes" >&2; exit 1; }',
    'mkdir -p "$dir"',
    // One line per mount point: a replaced volume's old line stayed first, and systemd mounts the first at boot.
    `if awk -v dev="$dev" -v dir="$dir" '${otherLine} { found = 1 } END { exit !found }' /etc/fstab; then`,
    `  awk -v dev="$dev" -v dir="$dir" '!(${otherLine})' /etc/fstab > /etc/fstab.sovereign-new && mv /etc/fstab.sovereign-new /etc/fstab`,
    'fi',
    'grep -q "^$dev " /etc/fstab || echo "$dev $dir ext4 discard,nofail,defaults 0 2" >> /etc/fstab',
    // A replaced volume's mount outlives its detachment; mounting over it or resizing the new one offline hides that.
    'if mountpoint -q "$dir"; then',
    '  source=$(findmnt -n -o SOURCE --mountpoint "$dir"); attached=$(readlink -f "$dev")',
    '  [ "$source" = "$attached" ] || { echo "$dir is mounted from $source, not from the volume now attached ($dev): stop what uses $dir and umount $dir, then roll out again; or reboot, which mounts the attached volume" >&2; exit 1; }',
    'else mount "$dir"; fi',
    `resize2fs "$dev" # to ${gib} GiB`,
  ].join('\n');
}
