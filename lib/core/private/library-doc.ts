/**
 * One of the library's docs, as a message names it where a bare `docs/backup.md` names nothing: on a server (no
 * docs/ folder there) and in a team's IaC repo (whose own docs/ is not the library's). The team finds it under
 * node_modules. The text is the same under CDK Terrain's build (rendered machine files stay byte-identical between
 * the two builds, so switching CDK rolls nothing out), hence both package names.
 *
 * It holds no quote, `$`, `%` or backslash, so it goes as it is into bash's double quotes and Python's `%` formats.
 * (The CLI, which knows where the package is, names the path itself: `docPath` in cli/package-files.ts.)
 */
export function libraryDoc(file: string, section?: string): string {
  return `docs/${file}${section === undefined ? '' : `, section ${section},`} of cdktf-sovereign-hetzner `
    + `(node_modules/cdktf-sovereign-hetzner/docs/${file} in your IaC repo, or cdktn-sovereign-hetzner under CDK Terrain)`;
}
