import { PACKAGE_NAME } from './package-name';

/** What a doc's name or section may not hold: it goes into bash's double quotes and Python's `%` formats as it is. */
const UNSAFE = /[`"'$%\\]/;

/**
 * One of the library's docs, as a message names it where a bare `docs/backup.md` names nothing: on a server (no
 * docs/ folder there) and in a team's IaC repo (whose own docs/ is not the library's). The team finds it under
 * node_modules. The text is the same under CDK Terrain's build (rendered machine files stay byte-identical between
 * the two builds, so switching CDK rolls nothing out), hence both package names.
 *
 * It holds no quote, backtick, `$`, `%` or backslash, so it goes as it is into bash's double quotes and Python's `%`
 * formats: a file or section holding one is refused. (The CLI, which knows where the package is, names the path
 * itself: `docPath` in cli/package-files.ts.)
 */
export function libraryDoc(file: string, section?: string): string {
  return `${docSection(file, section)} of cdktf-sovereign-hetzner `
    + `(node_modules/cdktf-sovereign-hetzner/docs/${file} in your IaC repo, or cdktn-sovereign-hetzner under CDK Terrain)`;
}

/**
 * `libraryDoc` for a message thrown at synth or a text the CLI prints (its usage), which reach no machine file: there
 * the build knows which package it is, so the text names that one alone.
 */
export function libraryDocAtSynth(file: string, section?: string): string {
  return `${docSection(file, section)} of ${PACKAGE_NAME} (node_modules/${PACKAGE_NAME}/docs/${file} in your IaC repo)`;
}

function docSection(file: string, section: string | undefined): string {
  for (const text of [file, section ?? '']) {
    if (UNSAFE.test(text)) {
      throw new Error(`libraryDoc: ${JSON.stringify(text)} holds a quote, backtick, $, % or backslash, which would break the bash and Python texts it goes into; name the doc without it`);
    }
  }
  return `docs/${file}${section === undefined ? '' : `, section ${section},`}`;
}
