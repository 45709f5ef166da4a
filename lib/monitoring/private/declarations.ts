import { IConstruct } from 'constructs';
import { ErrorMonitoringEndpoint } from '../error-monitoring-endpoint';

const endpoints = new WeakMap<IConstruct, ErrorMonitoringEndpoint>();

/** Records that `scope` sends error events to `endpoint`; the boundary rule reads it. */
export function declareErrorMonitoring(scope: IConstruct, endpoint: ErrorMonitoringEndpoint): void {
  endpoints.set(scope, endpoint);
}

/** The error-monitoring declarations on `scope` and below it, with their construct paths. */
export function errorMonitoringIn(scope: IConstruct): Array<{ path: string; endpoint: ErrorMonitoringEndpoint }> {
  return scope.node.findAll().flatMap((c) => {
    const endpoint = endpoints.get(c);
    return endpoint ? [{ path: c.node.path, endpoint }] : [];
  });
}
