import { PACKAGE_NAME } from '../lib/core/private/package-name';

/**
 * The stand-in provider speaks Terraform's plugin protocol (gRPC, msgpack). Those packages are
 * optional peer dependencies of cdktf-sovereign-hetzner: a team that only uses the constructs
 * never installs them (they are about 30 packages, one with an install script); a team that runs
 * the stand-in adds them as dev dependencies. The ranges are the package.json peer ranges.
 */
export const STAND_IN_PACKAGES: Readonly<Record<string, string>> = {
  '@grpc/grpc-js': '^1.14.7',
  '@grpc/proto-loader': '^0.8.1',
  '@msgpack/msgpack': '^3.1.3',
};

/** The optional peer packages of `packages` that cannot be resolved from this library. */
export function missingPeerPackages(packages: Readonly<Record<string, string>>, from: string = __dirname): string[] {
  return Object.keys(packages).filter((name) => {
    try {
      require.resolve(name, { paths: [from] });
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * Throws, naming what to install, when the stand-in's protocol packages are missing; called before
 * a provider process is started, where the failure would otherwise surface as a plugin crash
 * inside Terraform's output.
 */
export function assertStandInPackages(from: string = __dirname): void {
  const missing = missingPeerPackages(STAND_IN_PACKAGES, from);
  if (missing.length === 0) return;
  const install = missing.map((name) => `${name}@'${STAND_IN_PACKAGES[name]}'`).join(' ');
  throw new Error(
    `The Hetzner stand-in (${PACKAGE_NAME}/testing) runs a Terraform provider that needs the optional packages ${missing.join(', ')}, which are not installed. ` +
      `Fix: npm install --save-dev ${install} (the constructs themselves do not need them).`,
  );
}
