// node exporter's textfile directory is root's, but it sits in prometheus's /var/lib/prometheus: prometheus can swap it
// for a symlink (to /etc) or a directory of its own, and a root-run script that writes there by path then makes, chmods
// and renames files in that symlink's target. The shell writers enter it instead, as sovereign-job-metric does: a working
// directory stays the directory that was checked, whatever is at the path later, and every name after that is relative.

/**
 * A POSIX shell function, `textfile_cd <who> <file>`, for a script that sets `TEXTFILE_DIR`: makes the directory when
 * missing, then makes it the working directory if it is not a symlink, is the directory at the path and is owned by the
 * user the script runs as (root). Otherwise it says so on stderr (naming `<file>`, which is not written, and the fix) and
 * returns 1, leaving the working directory alone. Call it in a subshell, `( textfile_cd … || exit 1; … )`, so that the
 * rest of the script keeps its own working directory; write there with relative names and `mv -T`.
 */
export const TEXTFILE_CD_FUNCTION = `textfile_cd() { # <who> <file>
  [ -L "$TEXTFILE_DIR" ] || mkdir -p -- "$TEXTFILE_DIR" 2>/dev/null || true
  if [ -L "$TEXTFILE_DIR" ] || ! cd -P -- "$TEXTFILE_DIR" 2>/dev/null || ! [ . -ef "$TEXTFILE_DIR" ] || [ "$(stat -c %u .)" != "$(id -u)" ]; then
    echo "$1: $TEXTFILE_DIR is a symlink, not a directory or not owned by uid $(id -u): $2 not written; remove it (the next run makes it again)" >&2
    return 1
  fi
}`;
