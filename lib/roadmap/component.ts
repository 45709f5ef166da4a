import { Construct, IConstruct } from 'constructs';
import { requireInstance } from '../core/runtime-checks';
import { ROADMAP_THRESHOLDS as T } from './thresholds';
import { componentConstant } from './private/component-constant';

// The thresholds Roadmap.assess compares against, in the words the postponed list publishes.
const percent = (share: number) => `${Math.round(share * 100)}%`;
const modelSpend = `model API spend of EUR ${T.selfHostingSpendEur.toLocaleString('en-US')}/month or more`;
const phaseTwo = `${T.phaseTwoPayingCustomers === 1 ? 'the first paying customer' : `${T.phaseTwoPayingCustomers} paying customers`} (Phase 2)`;

/** A component declared by a construct of the app. */
export interface DeclaredComponent {
  /** The component. */
  readonly component: Component;
  /** The path of the construct that declares it. */
  readonly path: string;
}

/**
 * A piece of infrastructure the operating model phases in or deliberately postpones.
 *
 * Each carries the threshold that would justify it, so that "not yet" is a decision
 * with a reason rather than an omission.
 */
export class Component {
  /** Kubernetes (`kubernetes`). */
  public static readonly KUBERNETES = new Component('kubernetes', 'Kubernetes',
    'more than 5 services that deploy independently, or more than 3 app machines to schedule');
  /** Redis (`redis`). */
  public static readonly REDIS = new Component('redis', 'Redis',
    'p95 latency over the SLA with the database as the measured bottleneck, or a queue the database cannot carry');
  /** Permanent staging environment (`permanent-staging`). */
  public static readonly PERMANENT_STAGING = new Component('permanent-staging', 'Permanent staging environment',
    `more than ${T.permanentStagingReleasesPerMonth} releases a month, when on-demand staging would be up most of the time anyway`);
  /** Separate monitoring machine (`monitoring-machine`). */
  public static readonly MONITORING_MACHINE = new Component('monitoring-machine', 'Separate monitoring machine',
    `${T.phaseThreePayingCustomers} paying customers or more (Phase 3), or monitoring using more than a quarter of the machine it shares`);
  /** Dedicated embeddings server (`embeddings-server`). */
  public static readonly EMBEDDINGS_SERVER = new Component('embeddings-server', 'Dedicated embeddings server',
    'embedding API spend over EUR 500/month, or embeddings of data the boundary forbids sending out');
  /** Dedicated GPU box (`gpu-box`). */
  public static readonly GPU_BOX = new Component('gpu-box', 'Dedicated GPU box',
    `${modelSpend}, or a regulatory need for offline inference`);
  /** Separate database server (`split-app-db`). */
  public static readonly SPLIT_APP_DB = new Component('split-app-db', 'Separate database server',
    `database over ${percent(T.splitDatabaseDiskShare)} of the app disk, or CPU contention between app and database at the SLA`);
  /** Attached data volume (`data-volume`). */
  public static readonly DATA_VOLUME = new Component('data-volume', 'Attached data volume',
    `database over ${percent(T.volumeDiskShare)} of the disk, or fewer than ${T.minimumMonthsOfDisk} months of disk left at the current growth`);
  /** Offsite non-Hetzner backup (`offsite-backup`). */
  public static readonly OFFSITE_BACKUP = new Component('offsite-backup', 'Offsite non-Hetzner backup',
    `${phaseTwo}: recovery must survive losing the Hetzner account`);
  /** Host metrics and alerting (`host-observability`). */
  public static readonly HOST_OBSERVABILITY = new Component('host-observability', 'Host metrics and alerting',
    `${phaseTwo}: someone must know before the customer does`);
  /** Self-hosted model inference (`self-hosted-inference`). */
  public static readonly SELF_HOSTED_INFERENCE = new Component('self-hosted-inference', 'Self-hosted model inference',
    `${modelSpend}, p95 latency over the SLA caused by the model API, or regulation requiring offline inference`);
  /** Remote backup target (Storage Box) (`remote-backup`). */
  public static readonly REMOTE_BACKUP = new Component('remote-backup', 'Remote backup target (Storage Box)',
    'always: every phase keeps a copy of production off the production machine');
  /** External uptime checks (`external-uptime-checks`). */
  public static readonly EXTERNAL_UPTIME_CHECKS = new Component('external-uptime-checks', 'External uptime checks',
    'always: production is never judged up by itself');
  /** Basic error monitoring (`error-monitoring`). */
  public static readonly ERROR_MONITORING = new Component('error-monitoring', 'Basic error monitoring',
    'always: errors reach a person, under the data boundary');

  /** Every component of the roadmap. */
  public static all(): Component[] {
    return [
      Component.KUBERNETES, Component.REDIS, Component.PERMANENT_STAGING, Component.MONITORING_MACHINE,
      Component.EMBEDDINGS_SERVER, Component.GPU_BOX, Component.SPLIT_APP_DB, Component.DATA_VOLUME,
      Component.OFFSITE_BACKUP, Component.HOST_OBSERVABILITY, Component.SELF_HOSTED_INFERENCE,
      Component.REMOTE_BACKUP, Component.EXTERNAL_UPTIME_CHECKS, Component.ERROR_MONITORING,
    ];
  }

  /**
   * Records that `scope` provides a component. Stacks check every declaration against
   * their product's phase: a component the phase postpones fails synth unless it was
   * adopted early with a reason.
   */
  public static declare(scope: IConstruct, component: Component): void {
    // From JavaScript, a name ('redis') was recorded as no component at all: the phase never saw it, and reading the
    // declarations back failed with an unknown id.
    requireInstance(Construct.isConstruct(scope) ? scope : 'Component.declare', 'component', component, Component,
      `use a Component constant: ${Component.all().map((c) => `Component.${componentConstant(c)}`).join(', ')}`, 'a Component');
    const declared = scope.node.metadata.some((m) => m.type === COMPONENT_METADATA && m.data === component.id);
    if (!declared) scope.node.addMetadata(COMPONENT_METADATA, component.id);
  }

  /** The components declared on `scope` and everything below it, with where each was declared. */
  public static declaredIn(scope: IConstruct): DeclaredComponent[] {
    return scope.node.findAll().flatMap((c) => c.node.metadata
      .filter((m) => m.type === COMPONENT_METADATA)
      .map((m) => ({ component: Component.byId(String(m.data)), path: c.node.path })));
  }

  private static byId(id: string): Component {
    const found = Component.all().find((c) => c.id === id);
    // An invariant: only declare() writes this metadata, with a Component's own id.
    if (!found) throw new Error(`Component: unknown component id '${id}'.`);
    return found;
  }

  private constructor(
    /** Stable identifier, used in documents and metadata. */
    public readonly id: string,
    /** What people call it. */
    public readonly title: string,
    /** The threshold that brings it in, in words and numbers. */
    public readonly threshold: string,
  ) {}

  /** The component's id, such as `kubernetes`. */
  public toString(): string {
    return this.id;
  }
}

const COMPONENT_METADATA = 'cdktf-sovereign-hetzner/component';
