/** One resource change of a plan, from `terraform show -json`. */
export interface ResourceChange {
  /** The resource's full address in the state, such as `hcloud_server.App` (module path included when in a module). */
  readonly address: string;
  /** The resource type, such as `hcloud_server`. */
  readonly type: string;
  /** The resource's name in the configuration: for a cdktf stack, the construct's logical ID. */
  readonly name: string;
  /** Terraform's actions: ['create'], ['update'], ['delete', 'create'] (replace), ['no-op'], ... */
  readonly actions: readonly string[];
  /** For a replacement: the attribute paths that force it. */
  readonly replacePaths: readonly (readonly (string | number)[])[];
  /** Why Terraform chose the action (`action_reason`), such as `replace_because_tainted`; undefined when the plan gives none. */
  readonly actionReason?: string;
  /** The attribute values in the state before the change, as Terraform's JSON shows them; null for a create. */
  readonly before: any;
  /**
   * The planned attribute values; null for a delete. A value known only after apply (such as a new
   * server's `ipv4_address`) is absent here and marked in `afterUnknown`.
   */
  readonly after: any;
  /** Mirrors `after` with `true` wherever a value is known only after apply; `{}` when all are known. */
  readonly afterUnknown: any;
  /** Mirrors `after` with `true` wherever a value is sensitive (the plan shows `(sensitive value)`); `{}` when none is. */
  readonly afterSensitive: any;
}

/**
 * A plan as `terraform show -json <planfile>` describes it, with the questions tests ask of it.
 */
export class PlannedChanges {
  /** Every resource of the plan, in Terraform's order, unchanged ones (`['no-op']`) and data reads included. */
  public readonly resourceChanges: readonly ResourceChange[];

  /** @param json - the parsed output of `terraform show -json <planfile>`, kept as `json` for questions not answered here. */
  constructor(public readonly json: any) {
    this.resourceChanges = (json.resource_changes ?? []).map((rc: any) => ({
      address: rc.address,
      type: rc.type,
      name: rc.name,
      actions: rc.change?.actions ?? [],
      replacePaths: rc.change?.replace_paths ?? [],
      actionReason: typeof rc.action_reason === 'string' ? rc.action_reason : undefined,
      before: rc.change?.before ?? null,
      after: rc.change?.after ?? null,
      afterUnknown: rc.change?.after_unknown ?? {},
      afterSensitive: rc.change?.after_sensitive || {},
    }));
  }

  /** Changes of one resource type, or of one address. */
  public of(typeOrAddress: string): ResourceChange[] {
    return this.resourceChanges.filter((c) => c.type === typeOrAddress || c.address === typeOrAddress);
  }

  /** Resources that will be destroyed and created again. */
  public get replacements(): ResourceChange[] {
    return this.resourceChanges.filter((c) => c.actions.includes('delete') && c.actions.includes('create'));
  }

  /** Resources that will be created and did not exist before (a replacement is in `replacements`, not here). */
  public get creates(): ResourceChange[] {
    return this.resourceChanges.filter((c) => c.actions.length === 1 && c.actions[0] === 'create');
  }

  /** Resources that will be changed in place. */
  public get updates(): ResourceChange[] {
    return this.resourceChanges.filter((c) => c.actions.length === 1 && c.actions[0] === 'update');
  }

  /** Resources that will be destroyed and not created again (a replacement is in `replacements`, not here). */
  public get deletes(): ResourceChange[] {
    return this.resourceChanges.filter((c) => c.actions.length === 1 && c.actions[0] === 'delete');
  }

  /** Whether the plan changes nothing. */
  public get isEmpty(): boolean {
    return this.resourceChanges.every((c) => c.actions.every((a) => a === 'no-op' || a === 'read'));
  }

  /**
   * Counts as Terraform's summary line ("Plan: 1 to add, 0 to change, 1 to destroy.") has them: a
   * replacement counts as one add and one destroy.
   */
  public get summary(): {
    /** Resources to create, replacements included. */
    add: number;
    /** Resources to change in place. */
    change: number;
    /** Resources to destroy, replacements included. */
    destroy: number;
  } {
    let add = 0;
    let change = 0;
    let destroy = 0;
    for (const c of this.resourceChanges) {
      if (c.actions.includes('create')) add++;
      if (c.actions.includes('delete')) destroy++;
      if (c.actions.includes('update')) change++;
    }
    return { add, change, destroy };
  }
}
