import { Construct, IConstruct } from 'constructs';
import { Annotations, Fn, TerraformVariable, Token } from 'cdktf';
import { invalidValue, missingValue, ValidationError } from '../core/validation-message';
import { BundleFile } from '../hetzner/machine-bundle';
import { Location } from '../hetzner/location';
import { protectCheckedSecret, requireSensitiveVariable } from '../core/private/sensitive-variable';
import { IStorageBoxAccount, STORAGE_BOX_SSH_PORT, StorageBoxSubaccount } from '../hetzner/storage-box';
import { ETC, file } from './private/tooling';
import { urlHost, urlHostPrecondition, urlPortPrecondition } from './private/url-port';
import { TerraformData } from '../core/private/terraform-data';
import { S3Provider } from './s3-provider';
import { Port } from '../core/port';
import { checkOptions, checkProps, is, orNothing } from '../core/runtime-checks';

/** How a Storage Box sub-account holds a repository (`BackupTarget.storageBox`). */
export interface StorageBoxTargetOptions {
  /**
   * The repository's directory, relative to the account's home.
   * @default 'restic'
   */
  readonly path?: string;
  /**
   * The box's SSH host keys (`ssh-ed25519 AAAA…`), from `ssh-keyscan -p 23 <host>`, reviewed once.
   * Pinned keys make a man-in-the-middle fail the backup instead of receiving it.
   * @default - trust on first use, with a warning
   */
  readonly hostKeys?: string[];
}

/** An S3-compatible bucket at an EU provider outside Hetzner (`BackupTarget.s3Compatible`), every value from a sensitive variable. */
export interface S3TargetOptions {
  /** The company hosting the bucket: outside Hetzner, headquartered in the EU. */
  readonly provider: S3Provider;
  /** The endpoint, such as `https://s3.fr-par.scw.cloud`, from a sensitive variable. */
  readonly endpoint: TerraformVariable;
  /** The bucket, from a sensitive variable. */
  readonly bucket: TerraformVariable;
  /** The access key ID, from a sensitive variable. */
  readonly accessKeyId: TerraformVariable;
  /** The secret access key, from a sensitive variable. */
  readonly secretAccessKey: TerraformVariable;
  /**
   * The repository's prefix inside the bucket.
   * @default - the machine's server name
   */
  readonly path?: string;
  /**
   * The TCP port the endpoint listens on, when its URL names one (`https://s3.example.eu:8443`). The endpoint
   * is a secret, so synth cannot read the port from it: it is declared here, and the machine's egress must open it.
   * @default Port.of(443)
   */
  readonly port?: Port;
}

const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/;
const PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
/** A repository path as the messages promise it: relative, no spaces, and no "." or ".." part ('../x' left the account's directory). */
const isRepositoryPath = (path: string): boolean => PATH.test(path) && !path.split('/').some((part) => part === '.' || part === '..');

/**
 * How a target is written into a machine's configuration.
 * @internal
 */
export interface RenderedTarget {
  readonly conf: ReadonlyArray<readonly [string, string | number]>;
  readonly files: BundleFile[];
}

/**
 * The restic repository a target resolves to for one machine: the account that holds it and the path in it.
 * Two machines with the same `key` share one repository.
 * @internal
 */
export interface TargetRepository {
  /**
   * Equal for one directory: the same account (the same construct, or the same host and user name) and path, or
   * sub-accounts of one Storage Box whose home directory and path come to the same directory of the box.
   */
  readonly key: string;
  /** The account as a reader knows it: its construct path, else its user name. */
  readonly account: string;
  /** The repository's path in the account or bucket. */
  readonly path: string;
}

/**
 * A remote repository the backups are copied to, encrypted by restic.
 *
 * - `storageBox`: a Hetzner Storage Box account over SFTP on port 23, in another location than
 *   the machines it backs up.
 * - `s3Compatible`: an offsite bucket outside Hetzner, at an EU provider (Phase 2 on).
 */
export class BackupTarget {
  /** A Storage Box account (one per machine, from `StorageBox.addSubaccount`). */
  public static storageBox(account: IStorageBoxAccount, given: StorageBoxTargetOptions = {}): BackupTarget {
    // What is checked is what is kept (frozen snapshots): the account and options are read again at synth. A construct
    // is no snapshot but itself, read live: its password is checked when the target is rendered, as it is then.
    const live = Construct.isConstruct(account);
    account = checkProps<IStorageBoxAccount>('BackupTarget.storageBox', account, {
      host: is.text('pass an account from StorageBox.addSubaccount(…) or StorageBoxAccount.fromAttributes({ … })'),
      username: is.text("pass the account's user name"),
      location: is.instance(Location, 'use Location.FSN1 or Location.HEL1'),
      readonly: is.boolean(),
      password: live ? is.checkedLater() : is.optional(is.secret('pass a sensitive variable')),
    }, 'pass an account from StorageBox.addSubaccount(…) or StorageBoxAccount.fromAttributes({ … })');
    const options = checkOptions<StorageBoxTargetOptions>('BackupTarget.storageBox', 'options', given, {
      path: is.optional(is.text("use a path such as 'restic'")),
      hostKeys: is.optional(is.list(is.text('take the key part of `ssh-keyscan -p 23 <host>`, such as "ssh-ed25519 AAAA…"'), "list keys such as ['ssh-ed25519 AAAA…']")),
    }, orNothing("pass { hostKeys: ['ssh-ed25519 AAAA…'] }")) ?? {};
    // The default stays 'restic' for every machine: changing it would start a new, empty repository on deployed machines.
    const storageBoxPath = () => options.path ?? 'restic';
    const accountName = account instanceof Construct ? account.node.path : account.username;
    // A created sub-account is known by its construct (its user name is a token until apply), one given by its attributes by them.
    const accountKey = account instanceof Construct ? account.node.path : `${account.host} ${account.username}`;
    // Sub-accounts of one box are windows onto its directories: two with the same home (or one home inside the other)
    // and paths that meet are one repository, whatever their names.
    const boxDirectory = account instanceof StorageBoxSubaccount && !Token.isUnresolved(account.homeDirectory)
      ? (path: string) => `sftp box ${account.box.node.path} ${account.homeDirectory}/${path}` : undefined;
    const repository = (): TargetRepository => ({
      key: boxDirectory?.(storageBoxPath()) ?? `sftp ${accountKey} ${storageBoxPath()}`, account: accountName, path: storageBoxPath(),
    });
    return new BackupTarget('storagebox', `Storage Box in ${account.location.name}`, account.location, undefined, { host: account.host, port: STORAGE_BOX_SSH_PORT }, repository, (scope, name, ctx) => {
      const path = storageBoxPath();
      if (!isRepositoryPath(path)) {
        throw new ValidationError(invalidValue(scope, ctx.prop, path, 'a repository path is relative, without spaces or ".."', "use a path such as 'restic'"));
      }
      const badKey = (options.hostKeys ?? []).find((k) => !HOST_KEY.test(k.trim()));
      if (badKey !== undefined) {
        throw new ValidationError(invalidValue(scope, ctx.prop, badKey, 'a host key is a key type and base64 key, without the host name',
          `take the key part of \`ssh-keyscan -p ${STORAGE_BOX_SSH_PORT} <host>\`, such as "ssh-ed25519 AAAA…"`));
      }
      if (account.readonly && ctx.writes) {
        throw new ValidationError(invalidValue(scope, ctx.prop, `read-only Storage Box account in ${account.location.name}`, 'backups cannot be written to a read-only account',
          'give the plan a writable sub-account; read-only accounts are for restore drills'));
      }
      // The drill runs on the less protected test machine: with a writable account there, its compromise could delete production's backups.
      if (!account.readonly && !ctx.writes) {
        Annotations.of(scope).addWarning(`Backup-WritableDrillSource: ${scope.node.path}.${ctx.prop}: the ${name} Storage Box account (${account.username}) is writable, `
          + 'so the machine that only reads these backups could change or delete them. Fix: give it a read-only sub-account '
          + "(box.addSubaccount('Drill', { homeDirectory, readonly: true, password }), or StorageBoxAccount.fromAttributes without readonly: false).");
      }
      // A read-only account cannot install a key in its home: it logs in with its password.
      const auth = account.readonly ? 'password' : 'key';
      // A snapshot's password was checked by BackupTarget.storageBox; a construct's is checked now (a team's own account
      // construct may set it after the target was made, a JavaScript caller replace it): the registry re-checks a
      // variable at synth, not which variable a live field names. Read once: what is checked and registered is what is written.
      const password = account.password;
      if (password) {
        if (live) requireSensitiveVariable(scope, ctx.prop, password);
        else protectCheckedSecret(scope, ctx.prop, password);
      }
      if (auth === 'password' && !password) {
        throw new ValidationError(missingValue(scope, ctx.prop,
          'a read-only Storage Box account logs in with its password (it cannot install a key), and none was given',
          'pass password: <sensitive variable> to StorageBoxAccount.fromAttributes'));
      }
      const files: BundleFile[] = [];
      if (password) files.push(file(`${ETC}/secrets/${name}.password.b64`, `${Fn.base64encode(password.stringValue)}\n`, '0600'));
      const pinned = (options.hostKeys ?? []).length > 0;
      if (pinned) {
        files.push(file(`${ETC}/ssh/known_hosts.${name}`, options.hostKeys!.map((k) => `sovereign-${name} ${k.trim()}\n`).join(''), '0644'));
      } else {
        Annotations.of(scope).addWarning(`Backup-UnpinnedHostKey: ${scope.node.path}.${ctx.prop}: the ${name} Storage Box's host key is trusted on first use. `
          + `Fix: pass hostKeys from \`ssh-keyscan -p ${STORAGE_BOX_SSH_PORT} <host>\` (on a Product: backup: { storageBoxHostKeys }, which pins both the backups and the restore drill).`);
      }
      return {
        conf: [
          [`${name}_KIND`, 'sftp'],
          [`${name}_HOST`, account.host],
          [`${name}_PORT`, STORAGE_BOX_SSH_PORT],
          [`${name}_USER`, account.username],
          [`${name}_REPO_PATH`, path],
          [`${name}_AUTH`, auth],
          [`${name}_HOSTKEYS`, pinned ? 'yes' : 'accept-new'],
        ],
        files,
      };
    });
  }

  /** An S3-compatible bucket outside Hetzner: the offsite copy. Every connection detail is a sensitive variable. */
  public static s3Compatible(given: S3TargetOptions): BackupTarget {
    const secret = is.secret("pass a sensitive variable: new SecretVariable(stack, 'offsite_s3_…', { description })");
    // What is checked is what is kept (a frozen snapshot): the options are read again at synth.
    const options = checkProps<S3TargetOptions>('BackupTarget.s3Compatible', given, {
      provider: is.instance(S3Provider, 'use S3Provider.SCALEWAY, S3Provider.IONOS, S3Provider.OVHCLOUD or S3Provider.of(name, country)'),
      endpoint: secret, bucket: secret, accessKeyId: secret, secretAccessKey: secret,
      path: is.optional(is.text('use a path such as "production-app"')),
      port: is.optional(is.instance(Port, "use Port.of(8443), the port the endpoint's URL names")),
    }, 'pass { provider, endpoint, bucket, accessKeyId, secretAccessKey } with sensitive variables');
    if (options.port !== undefined && !options.port.isSingle) {
      throw new ValidationError(invalidValue('BackupTarget.s3Compatible', 'port', options.port.toString(),
        'an endpoint listens on one port, not a range', "use Port.of(8443), the port the endpoint's URL names"));
    }
    // The endpoint is a secret URL: its host is derived from it at deploy, for the machine's egress allowlist.
    const host = urlHost(options.endpoint);
    const port = options.port?.from ?? 443;
    const repository = (serverName: string): TargetRepository => {
      const path = options.path ?? serverName;
      // The bucket is a secret: the same variables mean the same bucket (different ones may hold the same value, unseen at synth).
      return { key: `s3 ${options.endpoint.node.path} ${options.bucket.node.path} ${path}`, account: `bucket ${options.bucket.node.path}`, path };
    };
    return new BackupTarget('offsite', `S3 bucket at ${options.provider}`, undefined, options.provider, { host, port }, repository, (scope, name, ctx) => {
      // Its four variables were checked by BackupTarget.s3Compatible, and are now in the stack of scope.
      for (const variable of [options.endpoint, options.bucket, options.accessKeyId, options.secretAccessKey]) protectCheckedSecret(scope, ctx.prop, variable);
      if (!scope.node.tryFindChild(`${name}-endpoint-port`)) {
        // Named with its variable, as the heartbeat's URL is: the message cannot show the value, a secret.
        const what = `The offsite S3 endpoint's URL (TF_VAR_${options.endpoint.friendlyUniqueId})`;
        new TerraformData(scope, `${name}-endpoint-port`, { lifecycle: { precondition: [urlPortPrecondition(options.endpoint, port, what,
          "declare the URL's port with BackupTarget.s3Compatible({ ..., port: Port.of(<port>) })"),
        urlHostPrecondition(options.endpoint, what, "set it to the URL the provider gives, such as https://s3.fr-par.scw.cloud")] } });
      }
      const path = options.path ?? ctx.serverName;
      if (!isRepositoryPath(path)) {
        throw new ValidationError(invalidValue(scope, ctx.prop, path, 'a repository path is relative, without spaces or ".."', 'use a path such as "production-app"'));
      }
      // Without the spaces around a value, as the host and port checks read the endpoint: a pasted ' https://…' or a
      // bucket with a trailing newline made restic's repository 's3: https://…' or 's3:…/bucket\n/…', which no push reached.
      const b64 = (v: TerraformVariable) => Fn.base64encode(Fn.trimspace(v.stringValue));
      return {
        conf: [[`${name}_KIND`, 's3'], [`${name}_REPO_PATH`, path]],
        files: [file(`${ETC}/secrets/${name}.s3.env`, [
          `ENDPOINT_B64=${b64(options.endpoint)}`,
          `BUCKET_B64=${b64(options.bucket)}`,
          `ACCESS_KEY_ID_B64=${b64(options.accessKeyId)}`,
          `SECRET_ACCESS_KEY_B64=${b64(options.secretAccessKey)}`,
          '',
        ].join('\n'), '0600')],
      };
    });
  }

  private constructor(
    /** The stem of the target's name on the machine (`storagebox`, `offsite`). */
    public readonly kind: 'storagebox' | 'offsite',
    /** Such as "Storage Box in hel1". */
    public readonly description: string,
    /** The Hetzner location, for targets inside Hetzner. */
    public readonly location: Location | undefined,
    /** The provider, for targets outside Hetzner. */
    public readonly provider: S3Provider | undefined,
    /**
     * The host (a token until deploy) and TCP port a machine reaches the target on, for its egress allowlist.
     * @internal
     */
    public readonly destination: { readonly host: string; readonly port: number },
    private readonly repositoryOf: (serverName: string) => TargetRepository,
    private readonly renderer: (scope: IConstruct, name: string, context: { serverName: string; writes: boolean; prop: string }) => RenderedTarget,
  ) {}

  /** Whether the copy is outside Hetzner (it survives losing the Hetzner account). */
  public get isOffsite(): boolean {
    return this.provider !== undefined && !this.provider.isHetzner;
  }

  /**
   * The target's settings and files for one machine; `name` is its shell-safe name there.
   * @internal
   */
  public render(scope: IConstruct, name: string, context: { serverName: string; writes: boolean; prop: string }): RenderedTarget {
    return this.renderer(scope, name, context);
  }

  /**
   * The repository the target resolves to for the machine named `serverName`.
   * @internal
   */
  public repositoryFor(serverName: string): TargetRepository {
    return this.repositoryOf(serverName);
  }

  /** The target's description, such as the Storage Box account or the provider and bucket. */
  public toString(): string {
    return this.description;
  }
}
