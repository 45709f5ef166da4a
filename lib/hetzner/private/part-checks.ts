import { Token } from 'cdktf';
import { posix } from 'path';
import { fail, optionalArray, optionalBoolean, optionalString, refuseUnknownProps, requireArray, requireProps, requireString } from '../../core/runtime-checks';
import { invalidValue, ValidationError } from '../../core/validation-message';
import { TEXTFILE_DIR } from '../../monitoring/private/paths';

/** What the part checks read of a cloud-init or bundle part. */
interface PartShape {
  readonly name: string;
  readonly files?: ReadonlyArray<{ readonly path: string; readonly content: string | (() => string); readonly compress?: boolean }>;
  readonly commands?: ReadonlyArray<string | readonly string[]>;
}

/**
 * Refuses a new part that writes a file another part (or the part itself) writes already. Checked
 * when the part is added: the document found it only when it rendered at synth, with a plain Error
 * that named no construct. `where` is the document's place, such as `production/App.bundle`.
 */
export function refuseClashingFiles(where: string, existing: readonly PartShape[], part: PartShape): void {
  const owners = new Map<string, string>();
  for (const p of existing) for (const f of p.files ?? []) owners.set(f?.path, p.name);
  (part?.files ?? []).forEach((file, i) => {
    const owner = owners.get(file?.path);
    if (owner !== undefined) {
      throw new ValidationError(invalidValue(where, `part(${part.name}).files[${i}].path`, file.path,
        `${owner === part.name ? 'the part writes it already' : `part '${owner}' writes it already`}, and a file has one content`,
        'let one part own each file: write to another path, or put the content into the part that writes it'));
    }
    owners.set(file?.path, part.name);
  });
}

/**
 * Refuses a command that holds a Terraform reference: commands travel as written, so the machine
 * would run the token's placeholder text. Checked when the part is added, not when it renders.
 */
export function refuseCommandReferences(where: string, part: PartShape): void {
  (part?.commands ?? []).forEach((command, i) => {
    const words = typeof command === 'string' ? [command] : Array.isArray(command) ? command : [];
    if (Token.isUnresolved(command) || words.some((w) => Token.isUnresolved(w))) {
      throw new ValidationError(invalidValue(where, `part(${part.name}).commands[${i}]`, command,
        'it holds a Terraform reference (a variable, an attribute or a Lazy value), which commands cannot carry: they are delivered as written',
        'write the value into a file of the part (files may hold references) and let the command read it'));
    }
  });
}

/**
 * The message for a compressed file whose content holds a Terraform reference, which cannot be
 * filled in inside compressed bytes; `undefined` when the content is plain text.
 */
export function compressedReferenceProblem(where: string, partName: string, index: number, content: string): string | undefined {
  if (!Token.isUnresolved(content)) return undefined;
  return invalidValue(where, `part(${partName}).files[${index}].content`, '<content with a Terraform reference>',
    'the file is compressed (compress: true), and a reference cannot be filled in inside compressed bytes',
    'keep references in a small uncompressed file, or leave compress out for this one');
}

/**
 * Refuses a file path that is not absolute or not written the one way the machine's file system reads it
 * (`//`, `.`, `..`, a trailing `/`): two parts would then write one file under two names, past the check that
 * a file has one owner, and the later would replace the other's, the egress allowlist's ruleset among them.
 */
function refuseUnnormalPath(at: string, prop: string, path: string): void {
  if (Token.isUnresolved(path)) return;
  const normal = posix.normalize(`/${path}`).replace(/(.)\/+$/, '$1');
  if (path === normal) return;
  fail(at, prop, path, 'a file path is absolute and written one way only (no //, ./, ../ or trailing /): under another spelling, two parts '
    + 'could write one file, the later one replacing the other\'s (the egress allowlist\'s ruleset among them)', `write it as '${normal}'`);
}

/**
 * A part as JavaScript may pass it: an object with a name, lists where lists go, text where text goes,
 * and no misspelt field (`command` for `commands` would leave the commands out without a word).
 */
export function checkPartShape(where: string, kind: 'bundle' | 'cloudInit', part: unknown): void {
  const fileFields = kind === 'bundle' ? ['path', 'content', 'permissions', 'owner', 'check'] : ['path', 'content', 'permissions', 'owner', 'compress'];
  const example = "{ name: 'my-tool', packages: ['curl'], files: [{ path: '/etc/my-tool.conf', content: '…' }], commands: ['systemctl restart my-tool'] }";
  requireProps(where, part, `pass ${example}`, 'part');
  const p = part as Record<string, unknown>;
  const name = requireString(where, 'part.name', p.name, "name the part, such as 'my-tool'");
  const at = `${where}.part(${name})`;
  refuseUnknownProps(at, undefined, p, ['name', 'packages', 'files', 'commands', ...(kind === 'bundle' ? ['activatesFirst', 'runtimeFiles'] : [])]);
  if (kind === 'bundle') optionalBoolean(at, 'activatesFirst', p.activatesFirst);
  if (kind === 'bundle') {
    optionalArray(at, 'runtimeFiles', p.runtimeFiles, `list absolute paths, such as ['${TEXTFILE_DIR}/my-tool.prom']`, (file, prop) => {
      requireString(at, prop, file, `write the absolute path, such as '${TEXTFILE_DIR}/my-tool.prom'`);
      refuseUnnormalPath(at, prop, file as string);
    });
  }
  optionalArray(at, 'packages', p.packages, "list Debian packages, such as ['curl']", (pkg, prop) => requireString(at, prop, pkg, "name the Debian package, such as 'curl'"));
  optionalArray(at, 'files', p.files, "list files, such as [{ path: '/etc/my-tool.conf', content: '…' }]", (file, prop) => {
    requireProps(at, file, "pass { path: '/etc/my-tool.conf', content: '…' }", prop);
    const f = file as Record<string, unknown>;
    refuseUnknownProps(at, prop, f, fileFields);
    requireString(at, `${prop}.path`, f.path, "write the absolute path, such as '/etc/my-tool.conf'");
    refuseUnnormalPath(at, `${prop}.path`, f.path as string);
    if (typeof f.content !== 'function') requireString(at, `${prop}.content`, f.content, 'pass the text, or a function that returns it at synth');
    optionalString(at, `${prop}.owner`, f.owner, "write it as 'user:group', such as 'root:root'");
    if (kind === 'cloudInit') optionalBoolean(at, `${prop}.compress`, f.compress);
    if (kind === 'bundle') optionalArray(at, `${prop}.check`, f.check, "pass the command as a list, such as ['nft', '-c', '-f', '{}']", (w, wp) => requireString(at, wp, w, "pass each word as text, with '{}' for the staged file"));
  });
  optionalArray(at, 'commands', p.commands, "list commands, such as ['systemctl restart my-tool'] or [['systemctl', 'restart', 'my-tool']]", (command, prop) => {
    if (typeof command === 'string') return;
    requireArray(at, prop, command, "write a command as text run by sh -c, or as a list of words", (w, wp) => requireString(at, wp, w, 'write each word as text'));
  });
}

/**
 * The part as it was checked: a frozen copy, its lists and files copied too, so that a caller's
 * object changed afterwards (a file pushed onto its list, a path edited from JavaScript) never
 * reaches the document unchecked.
 */
export function snapshotPart<T extends object>(part: T): T {
  const p = part as unknown as { files?: ReadonlyArray<Record<string, unknown>>; commands?: ReadonlyArray<string | readonly string[]>; packages?: readonly string[]; runtimeFiles?: readonly string[] };
  const copy: Record<string, unknown> = { ...(part as Record<string, unknown>) };
  if (p.packages) copy.packages = Object.freeze([...p.packages]);
  if (p.runtimeFiles) copy.runtimeFiles = Object.freeze([...p.runtimeFiles]);
  if (p.files) {
    copy.files = Object.freeze(p.files.map((f) => Object.freeze({ ...f, ...(Array.isArray(f.check) ? { check: Object.freeze([...f.check]) } : {}) })));
  }
  if (p.commands) copy.commands = Object.freeze(p.commands.map((c) => (typeof c === 'string' ? c : Object.freeze([...c]))));
  return Object.freeze(copy) as T;
}
