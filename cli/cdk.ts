import { ownPackage } from './package-files';

/**
 * The CDK an app on this package runs on: the one the package is built for. cdktf-sovereign-hetzner
 * targets CDK for Terraform; cdktn-sovereign-hetzner, built from the same source by
 * scripts/build-cdktn.js, targets CDK Terrain, whose CLI needs Node 22.
 */
export interface Cdk {
  /** The core package the app imports: `cdktf` or `cdktn`. */
  readonly library: 'cdktf' | 'cdktn';
  /** The CLI's package. */
  readonly cliPackage: 'cdktf-cli' | 'cdktn-cli';
  /** The CLI's command. */
  readonly command: 'cdktf' | 'cdktn';
  /** The Node major the CI jobs run. */
  readonly nodeMajor: number;
  /**
   * Whether `<command> synth` prints the stacks' warnings only to a terminal. cdktf-cli 0.21 prints none in CI or
   * through a pipe; cdktn-cli 0.24 prints them there too (measured with CI=true through a pipe). Neither prints any
   * when the app runs under `node` alone.
   */
  readonly synthWarnsOnlyInTerminal: boolean;
}

/** The CDK of a package.json of this library: CDK Terrain when it is a peer dependency. */
export function cdkOf(pkg: { peerDependencies?: Record<string, string> }): Cdk {
  return pkg.peerDependencies?.cdktn !== undefined
    ? { library: 'cdktn', cliPackage: 'cdktn-cli', command: 'cdktn', nodeMajor: 22, synthWarnsOnlyInTerminal: false }
    : { library: 'cdktf', cliPackage: 'cdktf-cli', command: 'cdktf', nodeMajor: 20, synthWarnsOnlyInTerminal: true };
}

/** The CDK this installed package is built for. */
export function ownCdk(): Cdk {
  return cdkOf(ownPackage());
}
