// node exporter's textfile directory is root's, but it sits in prometheus's /var/lib/prometheus: prometheus can swap it
// for a symlink (to /etc) or a directory of its own, and a root-run script that writes there by path then makes, chmods
// and renames files in that symlink's target. The shell writers enter it instead, as sovereign-job-metric does: a working
// directory stays the directory that was checked, whatever is at the path later, and every name after that is relative.

/**
 * A POSIX shell function, `textfile_cd <who> <file>`, for a script that sets `TEXTFILE_DIR`: makes the directory when
 * missing (never through a symlink), then makes it the working directory if the path is absolute with no `.` or `..`
 * component, is not a symlink, is the directory at the path and is owned by the user the script runs as (root). Otherwise it says why on stderr, one cause per message
 * (naming `<file>`, which is not written, and the fix) and returns 1; the working directory may then have changed, so
 * the caller ends: `( textfile_cd … || exit 1; … )` in a subshell, so that the rest of the script keeps its own, or
 * `textfile_cd … || exit 1` in a script that writes nothing else. Write there with relative names and `mv -T`.
 *
 * Whether `.` is the directory at the path is asked of the path itself (`stat` without `-L`: the link, were one
 * swapped in; trailing slashes are dropped first and a `.` or `..` component refused, since after either the system
 * resolves the link), compared by device and inode: a symlink put there between the `-L` test and `cd -P` is followed
 * by `cd -P` and by `[ . -ef ]` alike, into a directory that passes the owner's check too (/etc is root's).
 */
export const TEXTFILE_CD_FUNCTION = `textfile_cd() { # <who> <file>
  # After a trailing /, a /. or a /.., -L, cd -P and stat all follow a symlink; a relative path is read again after the cd.
  while case $TEXTFILE_DIR in ?*/) true;; *) false;; esac; do TEXTFILE_DIR=\${TEXTFILE_DIR%/}; done
  case $TEXTFILE_DIR in
    /*) ;;
    *) echo "$1: '$TEXTFILE_DIR' is not an absolute path: $2 not written; set it to one" >&2; return 1;;
  esac
  case $TEXTFILE_DIR/ in
    */./*|*/../*) echo "$1: $TEXTFILE_DIR has a . or .. component: $2 not written; name the directory itself" >&2; return 1;;
  esac
  if [ -L "$TEXTFILE_DIR" ]; then
    set -- "$1" "$2" "is a symlink" "; remove it (the next run makes the directory again)"
  elif ! textfile_made=$(mkdir -p -- "$TEXTFILE_DIR" 2>&1); then
    set -- "$1" "$2" "cannot be made ($textfile_made)" ""
  elif ! cd -P -- "$TEXTFILE_DIR" 2>/dev/null || [ "$(stat -c %d:%i -- "$TEXTFILE_DIR" 2>&1)" != "$(stat -c %d:%i .)" ]; then
    set -- "$1" "$2" "is not the directory at the path (it was replaced while it was checked)" "; the next run checks it again"
  elif [ "$(stat -c %u .)" != "$(id -u)" ]; then
    set -- "$1" "$2" "is owned by uid $(stat -c %u .), not $(id -u) (chown it to root or remove it)" ""
  else
    return 0
  fi
  echo "$1: $TEXTFILE_DIR $3: $2 not written$4" >&2
  return 1
}`;
