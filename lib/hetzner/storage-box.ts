import { Construct } from 'constructs';
import { TerraformVariable, Token } from 'cdktf';
import { StorageBox as StorageBoxResource } from '../../generated/providers/hcloud/storage-box';
import { StorageBoxSubaccount as StorageBoxSubaccountResource } from '../../generated/providers/hcloud/storage-box-subaccount';
import { DataClass } from '../core/data-class';
import { Environment } from '../core/environment';
import { Retirement } from '../core/retirement';
import { Size } from '../core/size';
import { invalidValue, ValidationError } from '../core/validation-message';
import { checkProps, fail, is } from '../core/runtime-checks';
import { protectCheckedSecret } from '../core/private/sensitive-variable';
import { hostnameProblem } from '../boundary/processor';
import { Location } from './location';
import { labelErrors, standardLabels, withUserLabels } from './private/standard-labels';
import { checkUniquePerProject } from './private/project-uniqueness';
import { guardStack } from '../core/private/guard-stack';

/**
 * A Storage Box product. Sizes and limits as of 2026-06 (shared hetzner-facts.json).
 *
 * @see https://www.hetzner.com/storage/storage-box/
 */
export class StorageBoxType {
  /** BX11: 1 TB, up to 10 automatic snapshots. */
  public static readonly BX11 = new StorageBoxType('bx11', Size.tebibytes(1), 10);
  /** BX21: 5 TB, up to 20 automatic snapshots. */
  public static readonly BX21 = new StorageBoxType('bx21', Size.tebibytes(5), 20);
  /** BX31: 10 TB, up to 30 automatic snapshots. */
  public static readonly BX31 = new StorageBoxType('bx31', Size.tebibytes(10), 30);
  /** BX41: 20 TB, up to 40 automatic snapshots. */
  public static readonly BX41 = new StorageBoxType('bx41', Size.tebibytes(20), 40);

  /** Every Storage Box type, smallest first. */
  public static all(): StorageBoxType[] {
    return [StorageBoxType.BX11, StorageBoxType.BX21, StorageBoxType.BX31, StorageBoxType.BX41];
  }

  private constructor(
    /** The API name, such as `bx11`. */
    public readonly name: string,
    /** Capacity as sold (Hetzner says TB; the box reports TiB). */
    public readonly capacity: Size,
    /** How many automatic snapshots the box can keep. */
    public readonly maxAutomaticSnapshots: number,
  ) {}

  /** The API name, such as `bx11`. */
  public toString(): string {
    return this.name;
  }
}

/** Storage Boxes exist only in these locations. */
export const STORAGE_BOX_LOCATIONS: readonly Location[] = Object.freeze([Location.FSN1, Location.HEL1]);

/** Storage Boxes accept SSH (and restic over SFTP) on this port; 22 speaks SFTP only. */
export const STORAGE_BOX_SSH_PORT = 23;

/** What a Storage Box is made of: its environment, location and type. */
export interface StorageBoxProps {
  /** The environment whose data it keeps; in production the box is delete-protected. */
  readonly environment: Environment;
  /**
   * The password of the main account, from a sensitive Terraform variable (or `TF_VAR_…`).
   * Hetzner's policy: at least 12 characters with a lower- and an upper-case letter, a digit and
   * one of `!$%/=?+#-`; we recommend 32 or more.
   */
  readonly password: TerraformVariable;
  /**
   * Where the box is. Keep it away from the machines it backs up: a box in the same location
   * shares their fire, flood and outage.
   * @default Location.HEL1 - machines default to fsn1
   */
  readonly location?: Location;
  /**
   * The product.
   * @default StorageBoxType.BX11
   */
  readonly type?: StorageBoxType;
  /**
   * Name of the box in the Hetzner console.
   * @default `${environment}-backups`
   */
  readonly name?: string;
  /**
   * How many daily automatic snapshots of the box Hetzner keeps (taken at 05:30 UTC). They are
   * the box's own history: a compromised machine can delete files through its sub-account, but
   * not the box's snapshots. 0 turns them off.
   * @default 7 in production, 0 elsewhere
   */
  readonly dailySnapshots?: number;
  /**
   * The data classes the box holds; they become labels.
   * @default [DataClass.SENSITIVE, DataClass.SECRET] - backups of an app machine hold tenant data and credentials
   */
  readonly dataClasses?: DataClass[];
  /**
   * Extra labels.
   * @default - only the standard labels
   */
  readonly labels?: Record<string, string>;
}

/** A sub-account's home directory, password and access. */
export interface StorageBoxSubaccountOptions {
  /**
   * The sub-account's home, relative to the box's root, such as `backups/production/app`.
   * The sub-account sees nothing above it.
   */
  readonly homeDirectory: string;
  /** The sub-account's password, from a sensitive Terraform variable. */
  readonly password: TerraformVariable;
  /**
   * Whether the sub-account may only read. A restore drill reads production's backups through a
   * read-only sub-account, so the test environment can never change or delete them.
   * @default false
   */
  readonly readonly?: boolean;
  /**
   * A description shown in the console.
   * @default - the construct path
   */
  readonly description?: string;
}

/** A Storage Box account that a machine logs in with (over SSH on port 23). */
export interface IStorageBoxAccount {
  /** The SSH host name, such as `u12345-sub1.your-storagebox.de` (a token until apply). */
  readonly host: string;
  /**
   * The login, such as `u12345-sub1` (a token until apply): ASCII letters, digits, `.`, `_` and `-`, starting with a
   * letter or a digit, as Hetzner gives them (ssh refuses or rewrites others).
   */
  readonly username: string;
  /** Where the box is. */
  readonly location: Location;
  /** Whether the account can only read. */
  readonly readonly: boolean;
  /** The account's password variable, if this stack knows it (needed to install a key, or to log in read-only). */
  readonly password?: TerraformVariable;
}

/** A Storage Box account defined elsewhere, such as production's read-only sub-account seen from the test stack. */
export interface StorageBoxAccountAttributes {
  /** The SSH host name, such as `u12345-sub2.your-storagebox.de`. */
  readonly host: string;
  /**
   * The login, such as `u12345-sub2`: ASCII letters, digits, `.`, `_` and `-`, starting with a letter or a digit (ssh
   * refuses or rewrites others). Refused otherwise, printing only the allowed characters it starts with.
   */
  readonly username: string;
  /** Where the box is. */
  readonly location: Location;
  /**
   * Whether the account can only read.
   * @default true
   */
  readonly readonly?: boolean;
  /**
   * The account's password, from a sensitive variable of this stack.
   * @default - none; a read-only account cannot be used without it
   */
  readonly password?: TerraformVariable;
}

/** A Storage Box account's user name as Hetzner gives them (u12345, u12345-sub2), and no character ssh or restic would split at. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A character named without printing it where it may belong to a password: "a space", "a colon", or its code point. */
function describeCharacter(code: number): string {
  const named: Record<string, string> = {
    ' ': 'a space', '\t': 'a tab', '\n': 'a newline', '\r': 'a carriage return', ':': 'a colon', '@': 'an at sign',
    "'": 'a single quote', '"': 'a double quote', '`': 'a backquote', '\\': 'a backslash', '/': 'a slash',
    '$': 'a dollar sign', '%': 'a percent sign',
  };
  const c = String.fromCodePoint(code);
  return named[c] ?? `U+${code.toString(16).toUpperCase().padStart(4, '0')} (a character outside letters, digits, ".", "_" and "-")`;
}

/** Storage Box accounts by reference. */
export class StorageBoxAccount {
  /** Refers to an account created in another stack (its host and login are that stack's outputs). */
  public static fromAttributes(attributes: StorageBoxAccountAttributes): IStorageBoxAccount {
    // What is checked is what is kept: a frozen snapshot, each attribute read once (a target reads it again at synth).
    attributes = checkProps<StorageBoxAccountAttributes>('StorageBoxAccount.fromAttributes', attributes, {
      host: is.text("pass the account's host, such as the other stack's output"),
      username: is.text("pass the account's user name, such as 'u12345-sub2'"),
      location: is.instance(Location, 'use Location.FSN1 or Location.HEL1 (where Storage Boxes are)'),
      readonly: is.optional(is.boolean()),
      password: is.optional(is.secret('pass a sensitive TerraformVariable')),
    }, "pass { host, username, location: Location.HEL1 }");
    // A host with the user in it ('u1@u1.your-storagebox.de') or a URL would only fail when the backup job first runs.
    if (!Token.isUnresolved(attributes.host) && hostnameProblem(attributes.host)) {
      fail('StorageBoxAccount.fromAttributes', 'host', attributes.host, hostnameProblem(attributes.host)!, "pass the host alone, such as 'u12345-sub2.your-storagebox.de', or the other stack's output");
    }
    // The user name reaches ssh (-o User=) and restic's repository (sftp:<user>@<host>:<path>); Hetzner's are u12345 or
    // u12345-sub2. A space, a quote or a login pasted with its password would only fail when the backup job first runs;
    // what follows a ':' or '@' may be the password, so it is not printed.
    if (!Token.isUnresolved(attributes.username) && !USER_NAME.test(attributes.username)) {
      // Anything after the leading run of allowed characters may be a password ('u1-sub2 Secret'), so the first
      // disallowed character is described, not printed with the rest; the run itself is shown only when it has the
      // shape of Hetzner's user names, since a password pasted alone ('Sup3r$ecret') begins with such a run too. Nor is
      // the character named, or its position, when nothing is shown: both tell part of such a password.
      const name = attributes.username;
      const lead = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*)?/.exec(name)![0];
      const shown = /^u[0-9]+(?:-sub[0-9]+)?$/.test(lead) ? lead : '';
      const why = name === ''
        ? 'it is empty'
        : shown === ''
          ? 'it is not a Storage Box user name (u12345, u12345-sub2)'
          : `character ${lead.length + 1} is ${describeCharacter(name.codePointAt(lead.length)!)}`;
      fail('StorageBoxAccount.fromAttributes', 'username', name === '' ? '' : `${shown}<redacted>`,
        `${why}; a Storage Box user name is letters, digits, ".", "_" and "-", starting with a letter or a digit`,
        "pass the account's user name alone, such as 'u12345-sub2', or the other stack's output");
    }
    return Object.freeze({ ...attributes, readonly: attributes.readonly ?? true });
  }

  private constructor() {}
}

/**
 * A Hetzner Storage Box: the remote copy's home, reached by machines over SSH on port 23.
 *
 * Safe by default:
 * - SSH on, Samba, WebDAV and ZFS off, and not reachable from outside Hetzner's network
 *   (Hetzner servers still reach it);
 * - changing `ssh_keys` would replace the box and lose every backup, so keys are never set on
 *   the box (each sub-account installs its own) and changes to them are ignored;
 * - in production: delete protection, `prevent_destroy`, and daily automatic snapshots; its
 *   sub-accounts get `prevent_destroy` too.
 *
 * Give each machine its own sub-account with `addSubaccount`.
 */
export class StorageBox extends Construct {
  /** The `hcloud_storage_box` resource. */
  public readonly resource: StorageBoxResource;
  /** The environment the box belongs to. */
  public readonly environment: Environment;
  /** Where the box is. */
  public readonly location: Location;
  /** The Storage Box product. */
  public readonly type: StorageBoxType;
  /** The main account's SSH host name (a token until apply). */
  public readonly host: string;
  /** The main account's login (a token until apply). */
  public readonly username: string;
  private readonly labels: Record<string, string>;

  constructor(scope: Construct, id: string, props: StorageBoxProps) {
    super(scope, id);
    guardStack(this);
    // Hetzner names it once per project, and other stacks of the App may deploy to this one (staging to production's).
    checkUniquePerProject(this);
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps<StorageBoxProps>(this, props, {
      environment: is.instance(Environment, 'use Environment.PRODUCTION, Environment.TEST or Environment.STAGING'),
      password: is.secret("pass a sensitive variable: new SecretVariable(stack, 'storage_box_password', { description })"),
      location: is.optional(is.instance(Location, 'use Location.FSN1 or Location.HEL1 (where Storage Boxes are)')),
      type: is.optional(is.instance(StorageBoxType, 'use StorageBoxType.BX11 or another StorageBoxType constant')),
      name: is.optional(is.text("name it such as 'acme-production-backups'")),
      dailySnapshots: is.optional(is.number('keep a whole number of daily snapshots, such as 7', { integer: true })),
      dataClasses: is.optional(is.list(is.instance(DataClass, 'use DataClass.PUBLIC, PSEUDONYMIZED, SENSITIVE or SECRET'), 'list data classes such as [DataClass.SENSITIVE]')),
      labels: is.optional(is.textMap("write labels such as { team: 'ml' }")),
    }, "pass { environment: Environment.PRODUCTION, location: Location.HEL1, password: <sensitive variable> }");
    this.environment = props.environment;
    this.location = props.location ?? Location.HEL1;
    this.type = props.type ?? StorageBoxType.BX11;
    const isProtected = Retirement.keepsProtection(scope, props.environment.protectedFromLoss, { backups: true });
    const dailySnapshots = props.dailySnapshots ?? (props.environment.protectedFromLoss ? 7 : 0);
    protectCheckedSecret(this, 'password', props.password);
    if (!Number.isInteger(dailySnapshots) || dailySnapshots < 0 || dailySnapshots > this.type.maxAutomaticSnapshots) {
      throw new ValidationError(invalidValue(this, 'dailySnapshots', dailySnapshots,
        `a ${this.type.name} keeps 0 to ${this.type.maxAutomaticSnapshots} automatic snapshots`,
        `pass a whole number from 0 to ${this.type.maxAutomaticSnapshots}, or a larger StorageBoxType`));
    }
    // The standard labels win: the boundary rules read them.
    this.labels = withUserLabels(this.node.path, props.environment,
      standardLabels({ environment: props.environment, role: 'backups', dataClasses: props.dataClasses ?? [DataClass.SENSITIVE, DataClass.SECRET] }), props.labels);

    this.resource = new StorageBoxResource(this, 'Resource', {
      name: props.name ?? `${props.environment.name}-backups`,
      location: this.location.name,
      storageBoxType: this.type.name,
      password: props.password.stringValue,
      labels: this.labels,
      accessSettings: {
        sshEnabled: true,
        reachableExternally: false,
        sambaEnabled: false,
        webdavEnabled: false,
        zfsEnabled: false,
      },
      snapshotPlan: dailySnapshots > 0 ? { hour: 5, minute: 30, maxSnapshots: dailySnapshots } : undefined,
      deleteProtection: isProtected,
      // ssh_keys forces a new box (provider >= 1.58): never let a drift in them replace the backups.
      lifecycle: isProtected ? { preventDestroy: true, ignoreChanges: ['ssh_keys'] } : { ignoreChanges: ['ssh_keys'] },
    });
    this.host = this.resource.server;
    this.username = this.resource.username;

    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        if (!STORAGE_BOX_LOCATIONS.includes(this.location)) {
          errors.push(invalidValue(this, 'location', this.location.name, 'Storage Boxes exist only in fsn1 and hel1',
            'use Location.HEL1 or Location.FSN1, whichever is not where the machines run'));
        }
        errors.push(...labelErrors(this, this.labels));
        return errors;
      },
    });
  }

  /** Adds a sub-account with SSH access and its own home directory. */
  public addSubaccount(id: string, options: StorageBoxSubaccountOptions): StorageBoxSubaccount {
    return new StorageBoxSubaccount(this, id, { box: this, ...options });
  }

  /** Labels of the box, for resources that belong to it. */
  public get standardLabels(): Record<string, string> {
    return { ...this.labels };
  }
}

/** A sub-account's options and the Storage Box it belongs to (usually created with `box.addSubaccount`). */
export interface StorageBoxSubaccountProps extends StorageBoxSubaccountOptions {
  /** The Storage Box the sub-account belongs to. */
  readonly box: StorageBox;
}

/**
 * A sub-account of a Storage Box: SSH on, everything else off, locked to its home directory.
 *
 * Hetzner has no API field for a sub-account's SSH keys: the machine installs its own key once
 * (`install-ssh-key` over port 23, with the password) into the sub-account's home.
 */
export class StorageBoxSubaccount extends Construct implements IStorageBoxAccount {
  /** The `hcloud_storage_box_subaccount` resource. */
  public readonly resource: StorageBoxSubaccountResource;
  /** The Storage Box the sub-account belongs to. */
  public readonly box: StorageBox;
  /** The sub-account's home directory on the box, which it is locked to. */
  public readonly homeDirectory: string;
  public readonly host: string;
  public readonly username: string;
  public readonly location: Location;
  public readonly readonly: boolean;
  public readonly password: TerraformVariable;

  constructor(scope: Construct, id: string, props: StorageBoxSubaccountProps) {
    super(scope, id);
    guardStack(this);
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps<StorageBoxSubaccountProps>(this, props, {
      box: is.instance(StorageBox, 'add the sub-account with box.addSubaccount(id, { homeDirectory, password })'),
      homeDirectory: is.text('use a path such as "backups/production/app"'),
      password: is.secret("pass a sensitive variable: new SecretVariable(stack, 'storage_box_app_password', { description })"),
      readonly: is.optional(is.boolean()),
      description: is.optional(is.text("describe the account, such as 'production app machine backups'")),
    }, "pass { homeDirectory: 'backups/production/app', password: <sensitive variable> }");
    this.box = props.box;
    this.location = props.box.location;
    this.readonly = props.readonly ?? false;
    this.homeDirectory = props.homeDirectory;
    protectCheckedSecret(this, 'password', props.password);
    this.password = props.password;
    const home = props.homeDirectory;
    // '.' (or 'a/', 'a//b' read loosely) is the box root: the sub-account would see, and could delete, every other account's backups.
    if (!Token.isUnresolved(home) && home.split('/').some((part) => part.trim() === '' || part === '.' || part === '..')) {
      throw new ValidationError(invalidValue(this, 'homeDirectory', home,
        'a home directory is a path of named directories relative to the box root: no leading or trailing "/", and no empty, "." or ".." parts '
        + '(the root would let this account read and delete every other account\'s backups)', 'use a path such as "backups/production/app"'));
    }
    this.resource = new StorageBoxSubaccountResource(this, 'Resource', {
      storageBoxId: Token.asNumber(props.box.resource.id),
      homeDirectory: home,
      password: props.password.stringValue,
      description: props.description ?? this.node.path,
      labels: props.box.standardLabels,
      accessSettings: {
        sshEnabled: true,
        reachableExternally: false,
        sambaEnabled: false,
        webdavEnabled: false,
        readonly: this.readonly,
      },
      // A renamed or replaced sub-account is deleted and created again under a new login (<box>-subN), which
      // the backup jobs and the drill would have to pick up: in production the plan refuses that loudly, as for
      // the box. It stays protected through a retirement as long as the box does.
      lifecycle: Retirement.keepsProtection(scope, props.box.environment.protectedFromLoss, { backups: true }) ? { preventDestroy: true } : undefined,
    });
    this.host = this.resource.server;
    this.username = this.resource.username;
  }
}
