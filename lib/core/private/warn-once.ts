import { Annotations } from 'cdktf';
import { IConstruct } from 'constructs';

/** A warning given from a validation, which runs at every synth (and again on a second one): recorded once on the construct. */
export function warnOnce(construct: IConstruct, message: string): void {
  if (construct.node.metadata.some((m) => m.data === message)) return;
  Annotations.of(construct).addWarning(message);
}
