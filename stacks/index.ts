// Reusable stack classes composed from the library. Re-exports only.
export * from './environment-stack';
export * from './product-stacks';
