import { Construct, IConstruct } from 'constructs';
import { S3Backend, TerraformStack } from 'cdktf';
import { reachStackOf } from '../core/app-level-packs';
import { requireTerraform, withTerraformFloor } from '../core/private/terraform-floor';
import { fail, optionalInstance, optionalString, propNames, refuseUnknownProps, requireProps, requireString } from '../core/runtime-checks';
import { invalidValue, ValidationError } from '../core/validation-message';
import { Location } from './location';
import { guardStack } from '../core/private/guard-stack';

/** Where Hetzner Object Storage is offered. */
const OBJECT_STORAGE_LOCATIONS = [Location.FSN1, Location.NBG1, Location.HEL1];

/** Where the Terraform state lives: the bucket, and the Object Storage location. */
export interface ObjectStorageBackendProps {
  /** The bucket holding the state; create it once, by hand or in a bootstrap stack. */
  readonly bucket: string;
  /**
   * The object key of this stack's state. Each stack has its own key: two stacks writing one
   * state file would overwrite each other's resources.
   * @default `${stack name}/terraform.tfstate`
   */
  readonly key?: string;
  /**
   * The Object Storage location of the bucket.
   * @default Location.FSN1
   */
  readonly location?: Location;
}

/**
 * Why a bucket name breaks the S3 naming rules, or `undefined`: 3-63 characters of lowercase
 * letters, digits, '-' and '.', starting and ending with a letter or digit, no '..', not shaped
 * like an IP address, and none of the prefixes and suffixes S3 reserves.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `a bucket name has 3 to 63 characters (this one has ${name.length})`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return "a bucket name uses only lowercase letters, digits, '-' and '.', and starts and ends with a letter or digit";
  if (name.includes('..')) return "a bucket name has no two dots in a row";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'a bucket name is not shaped like an IP address';
  if (/^(xn--|sthree-)/.test(name) || /(-s3alias|--ol-s3|--x-s3)$/.test(name)) return 'S3 reserves this prefix or suffix';
  return undefined;
}

/** Which stack uses each state object, per app: one state key per stack. */
const stateKeys = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Terraform state in Hetzner Object Storage (S3-compatible, in the EU), with locking.
 *
 * The locking is S3-native (`use_lockfile`, Terraform 1.10 on), so the stack declares
 * `terraform.required_version` `>= 1.10` in its JSON output: an older Terraform then says its version is
 * not supported, instead of refusing an argument it does not know. A stack that needs a narrower range sets
 * its own with `stack.addOverride('terraform.required_version', …)`, which wins whenever it is made. That is for
 * the JSON output only: cdktf 0.21's HCL renderer writes it as `0 = "required_version"`, which Terraform cannot
 * parse, so with `--hcl` the override is refused at synth, and the HCL output declares no version at all (pin the
 * Terraform that runs it, or synthesize JSON).
 *
 * State holds every attribute of every resource, secrets included: it is data of the
 * most sensitive class and stays in the EU like the rest. Credentials are never part
 * of the configuration; Terraform reads them from `AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY` (an Object Storage key pair).
 */
export class ObjectStorageBackend extends S3Backend {
  /** The location the state lives in. */
  public readonly location: Location;

  constructor(scope: Construct, props: ObjectStorageBackendProps) {
    const stack = TerraformStack.of(scope);
    const at = `${stack.node.path}.stateBackend`;
    requireProps(at, props, "pass { bucket: 'acme-tfstate' }");
    refuseUnknownProps(at, undefined, props, propNames<ObjectStorageBackendProps>({ bucket: true, location: true, key: true }));
    const bucket = requireString(at, 'bucket', props.bucket, "name the bucket, such as 'acme-tfstate'");
    const bucketProblem = bucketNameProblem(bucket);
    if (bucketProblem) fail(at, 'bucket', bucket, bucketProblem, "use a name such as 'acme-tfstate'");
    const location = optionalInstance(at, 'location', props.location, Location, 'use Location.FSN1, Location.NBG1 or Location.HEL1', 'a Location') ?? Location.FSN1;
    const key = optionalString(at, 'key', props.key, "use a key such as 'production/terraform.tfstate'") ?? `${stack.node.id}/terraform.tfstate`;
    if (key.trim() === '' || key.startsWith('/') || key.endsWith('/') || key.split('/').some((part) => part === '..' || part === '.' || part === '') || key.length > 1024) {
      fail(at, 'key', key, 'a state key is an object path: not empty, no leading or trailing "/", no empty, "." or ".." segments, at most 1024 characters', `leave it out (the default is '${stack.node.id}/terraform.tfstate')`);
    }
    if (!OBJECT_STORAGE_LOCATIONS.includes(location)) {
      throw new ValidationError(invalidValue(stack, 'stateBackend.location', location.name,
        'Hetzner Object Storage exists only in fsn1, nbg1 and hel1, and state must stay in the EU', 'use Location.FSN1, Location.NBG1 or Location.HEL1'));
    }
    const keys = stateKeys.get(stack.node.root) ?? new Map<string, string>();
    stateKeys.set(stack.node.root, keys);
    const object = `${location.name}/${bucket}/${key}`;
    const owner = keys.get(object);
    if (owner !== undefined && owner !== stack.node.path) {
      fail(at, 'key', key, `stack ${owner} already keeps its state in ${bucket}/${key}, and two stacks sharing one state would overwrite each other's resources`,
        'leave key out (each stack gets <stack name>/terraform.tfstate) or give this stack a key of its own');
    }
    keys.set(object, stack.node.path);
    super(scope, {
      bucket,
      key,
      region: location.name,
      endpoints: { s3: `https://${location.name}.your-objectstorage.com` },
      // Hetzner is not AWS: skip the AWS-only account, region and checksum calls.
      skipCredentialsValidation: true,
      skipRegionValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: true,
      skipS3Checksum: true,
      usePathStyle: true,
    });
    guardStack(this);
    this.location = location;
    // S3-native locking (Terraform >= 1.10): a lock file beside the state, no DynamoDB needed.
    this.addOverride('use_lockfile', true);
    requireTerraform(this, '1.10');
    reachStackOf(stack);
  }

  /**
   * The backend block and the Terraform version the stack needs; the stack's own overrides apply after it.
   * (Not in cdktf's HCL output, whose renderer cannot write that setting: see terraform-floor.ts.)
   */
  public toTerraform(): any {
    return withTerraformFloor(this, super.toTerraform());
  }
}
