import { spawnSync } from 'child_process';
import * as fs from 'fs';

/** A diagnostic as Terraform's `-json` output reports it. */
export interface TerraformDiagnostic {
  /** An error fails the command; a warning does not. */
  readonly severity: 'error' | 'warning';
  /** Terraform's one-line heading, such as `Instance cannot be destroyed`: what tests match on. */
  readonly summary: string;
  /** The explanation under the heading, possibly several lines; empty when Terraform gives none. */
  readonly detail: string;
  /** The resource address, where Terraform names one. */
  readonly address?: string;
  /** Where in the configuration, such as `cdk.tf.json:42 (in resource "hcloud_server" "App")`. */
  readonly where?: string;
}

/** One Terraform command and what came of it. */
export interface TerraformRun {
  /** The arguments Terraform ran with, subcommand first, such as `['plan', '-input=false', ...]`. */
  readonly args: readonly string[];
  /** Terraform's exit status; -1 when it was killed (for example on the timeout) and exited without one. */
  readonly exitCode: number;
  /** Whether the command succeeded (exit status 0). A successful run can still carry warnings. */
  readonly ok: boolean;
  /** Everything Terraform wrote to stdout: JSON messages for `-json` commands, else its human-readable output. */
  readonly stdout: string;
  /** Everything Terraform wrote to stderr. */
  readonly stderr: string;
  /** The errors and warnings Terraform reported, in order; empty when it reported none. */
  readonly diagnostics: readonly TerraformDiagnostic[];
  /** Wall time, in milliseconds. */
  readonly ms: number;
}

/** Time spent in Terraform by this process, for the suite's share-of-time measurement. */
export const terraformTime = { ms: 0, runs: 0 };

/** The Terraform executable: TERRAFORM_BINARY_NAME (as cdktf uses it), else `terraform` on PATH. */
export function terraformBinary(): string {
  return process.env.TERRAFORM_BINARY_NAME || 'terraform';
}

/**
 * Runs Terraform synchronously and collects diagnostics from its `-json` output (validate,
 * plan, apply) or, for commands without one, from the human-readable error text.
 */
export function runTerraform(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000): TerraformRun {
  const started = process.hrtime.bigint();
  const result = spawnSync(terraformBinary(), args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  terraformTime.ms += ms;
  terraformTime.runs += 1;
  // For the benchmark's share-of-suite-time figure (scripts/bench-terraform.js).
  if (process.env.HCLOUD_STANDIN_TERRAFORM_LOG) fs.appendFileSync(process.env.HCLOUD_STANDIN_TERRAFORM_LOG, `terraform\t${args[0]}\t${ms.toFixed(1)}\n`);
  if (result.error) throw new Error(`terraform ${args.join(' ')} could not run: ${result.error.message}`);
  const stdout = result.stdout ?? '';
  const stderr = result.stderr ?? '';
  const exitCode = result.status ?? -1;
  return { args, exitCode, ok: exitCode === 0, stdout, stderr, diagnostics: parseDiagnostics(stdout, stderr), ms };
}

function parseDiagnostics(stdout: string, stderr: string): TerraformDiagnostic[] {
  const out: TerraformDiagnostic[] = [];
  const trimmed = stdout.trim();
  // `terraform validate -json`: one JSON document.
  if (trimmed.startsWith('{') && trimmed.includes('"diagnostics"') && !trimmed.includes('\n{"@level"')) {
    try {
      const doc = JSON.parse(trimmed);
      for (const d of doc.diagnostics ?? []) out.push(fromJson(d));
      return out;
    } catch {
      // fall through to the streaming form
    }
  }
  // `plan|apply -json`: one JSON message per line; diagnostics have type "diagnostic".
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const msg = JSON.parse(line);
      if (msg.type === 'diagnostic' && msg.diagnostic) out.push(fromJson(msg.diagnostic));
    } catch {
      // not a JSON line
    }
  }
  // Commands without -json (init, show): "Error: <summary>" blocks on stderr.
  for (const block of stderr.split(/\n(?=(?:\u2577\n\u2502 )?(?:Error|Warning): )/)) {
    const m = /(Error|Warning): (.+)\n?([\s\S]*)/.exec(block.replace(/^[\u2502\u2577\u2575] ?/gm, ''));
    if (m) out.push({ severity: m[1] === 'Error' ? 'error' : 'warning', summary: m[2].trim(), detail: m[3].trim() });
  }
  return out;
}

function fromJson(d: any): TerraformDiagnostic {
  const where = d.range ? `${d.range.filename}:${d.range.start?.line ?? '?'}${d.snippet?.context ? ` (${d.snippet.context})` : ''}` : undefined;
  return { severity: d.severity, summary: d.summary ?? '', detail: d.detail ?? '', address: d.address, where };
}

/** The diagnostics as text, one per paragraph, for assertion messages. */
export function describeDiagnostics(run: TerraformRun): string {
  const lines = run.diagnostics.map((d) => `${d.severity}: ${d.summary}${d.address ? ` (${d.address})` : ''}${d.where ? ` at ${d.where}` : ''}${d.detail ? `\n    ${d.detail.replace(/\n/g, '\n    ')}` : ''}`);
  return lines.length > 0 ? lines.join('\n') : (run.stderr.trim() || run.stdout.trim()).slice(0, 4000);
}
