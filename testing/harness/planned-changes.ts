/** One resource change of a plan, from `terraform show -json`. */
export interface ResourceChange {
  readonly address: string;
  readonly type: string;
  readonly name: string;
  /** Terraform's actions: ['create'], ['update'], ['delete', 'create'] (replace), ['no-op'], ... */
  readonly actions: readonly string[];
  /** For a replacement: the attribute paths that force it. */
  readonly replacePaths: readonly (readonly (string | number)[])[];
  readonly before: any;
  readonly after: any;
  readonly afterUnknown: any;
}

/**
 * A plan as `terraform show -json <planfile>` describes it, with the questions tests ask of it.
 */
export class PlannedChanges {
  public readonly resourceChanges: readonly ResourceChange[];

  constructor(public readonly json: any) {
    this.resourceChanges = (json.resource_changes ?? []).map((rc: any) => ({
      address: rc.address,
      type: rc.type,
      name: rc.name,
      actions: rc.change?.actions ?? [],
      replacePaths: rc.change?.replace_paths ?? [],
      before: rc.change?.before ?? null,
      after: rc.change?.after ?? null,
      afterUnknown: rc.change?.after_unknown ?? {},
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

  public get creates(): ResourceChange[] {
    return this.resourceChanges.filter((c) => c.actions.length === 1 && c.actions[0] === 'create');
  }

  public get updates(): ResourceChange[] {
    return this.resourceChanges.filter((c) => c.actions.length === 1 && c.actions[0] === 'update');
  }

  public get deletes(): ResourceChange[] {
    return this.resourceChanges.filter((c) => c.actions.length === 1 && c.actions[0] === 'delete');
  }

  /** Whether the plan changes nothing. */
  public get isEmpty(): boolean {
    return this.resourceChanges.every((c) => c.actions.every((a) => a === 'no-op' || a === 'read'));
  }

  /** Counts as Terraform's summary line has them. */
  public get summary(): { add: number; change: number; destroy: number } {
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
