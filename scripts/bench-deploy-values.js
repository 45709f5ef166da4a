// The deploy-time variables a benchmark's rollout needs: values the on-machine setup accepts, that is
// every monitoring URL at the host the machine's bundle declares for it, and an error-monitoring DSN at
// its endpoint's host. Shared by the benchmarks that deploy through the stand-in (rollout, RTO).
'use strict';

/**
 * @param testing the loaded `testing` entry (from dist/ or the sources), for `synthesizedBundle`
 * @param json a synthesized stack
 * @param server the machine's server name
 * @returns `TF_VAR_…` environment entries
 */
function deployValuesFor(testing, json, server) {
  const bundle = testing.synthesizedBundle(json, server);
  const env = {};
  const expected = bundle.files.get('/etc/sovereign-monitoring/secrets/expected');
  for (const line of String(expected ? expected.content : '').split('\n').filter(Boolean)) {
    const [name, kind, host] = line.split(/\s+/);
    env[`TF_VAR_${name}`] = kind === 'password' ? 'bench-password-0001' : `https://${host}/bench-token-0001`;
  }
  for (const part of bundle.parts) {
    for (const command of part.commands) {
      if (Array.isArray(command) && command[1] === 'error-monitoring') env.TF_VAR_error_monitoring_dsn = `https://key@${command[3].split(',')[0]}/1`;
    }
  }
  return env;
}

module.exports = { deployValuesFor };
