// Strings that reach a transient unit. systemd keeps each transient unit as a file
// ($XDG_RUNTIME_DIR/systemd/transient/<name> for a user manager, /run/systemd/transient for
// the system one) and re-reads it on every daemon-reload, so a string that does not
// survive that file's syntax would become other settings, e.g. an `ExecStopPost=` that runs
// as the manager's user. Measured on systemd 252 (what it writes, what it reads back):
// - Environment= and ExecStart= arguments are quoted and C-escaped: any value is safe.
// - Description= and WorkingDirectory= are written raw (only `%` doubled): a newline or CR
//   starts a new line, a trailing `\` joins the next line, trailing blanks are stripped.
// - The executable path of ExecStart= is checked on reading: quotes, `\`, `$`, `;` and
//   control characters make the unit `bad-setting`.
// So Description is built from an escaped id, and paths systemd cannot hold are rejected.

/** Longer descriptions are cut: the text is for people, the unit name identifies the proc. */
const MAX_DESCRIPTION_CHARS = 200;
/** Printable characters that stand for themselves in a Description (`\` is the escape). */
const PLAIN_DESCRIPTION = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
/** Control characters (C0, DEL, C1) and Unicode line/paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
/** What systemd 252 refuses in an executable path read back from a unit file. */
const BAD_EXEC_PATH = /[\u0000-\u001f\u007f-\u009f\u2028\u2029"'\\$;]/u;
/** A lone UTF-16 surrogate has no UTF-8 form: it would reach systemd as U+FFFD, another path. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * `proclaunch: <id>` with every character that could end or join a unit-file line (controls,
 * separators, `\`, a trailing blank) written as `\xNN` / `\uNNNN`. Such an id is still
 * readable and can never add a setting.
 */
export function describeProcId(procId: string): string {
  const chars = [...procId];
  let text = '';
  chars.forEach((char, i) => {
    const last = i === chars.length - 1;
    text += PLAIN_DESCRIPTION.test(char) && char !== '\\' && !(last && char === ' ') ? char : escapeChar(char);
  });
  const cut = [...text];
  if (cut.length > MAX_DESCRIPTION_CHARS) text = `${cut.slice(0, MAX_DESCRIPTION_CHARS).join('').replace(/\\[xu]?[0-9a-f]{0,3}$/, '')}…`;
  return `proclaunch: ${text}`;
}

function escapeChar(char: string): string {
  const code = char.codePointAt(0)!;
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/**
 * A directory path that is written raw into the unit file (WorkingDirectory=, socket paths):
 * no line breaks or other control characters, no trailing `\` or blank.
 */
export function checkUnitFilePath(path: string, option: string): string {
  const why = CONTROL.test(path)
    ? 'a control character or line break'
    : /[\s\\]$/u.test(path)
      ? 'a trailing blank or "\\"'
      : LONE_SURROGATE.test(path)
        ? 'a lone UTF-16 surrogate'
        : null;
  if (why !== null) throw new RangeError(`${option} ${JSON.stringify(path)} contains ${why}, which systemd cannot keep in a unit file`);
  return path;
}

/** The executable path of ExecStart=, which systemd checks again at every daemon-reload. */
export function checkExecPath(path: string, option: string): string {
  if (BAD_EXEC_PATH.test(path) || LONE_SURROGATE.test(path)) {
    throw new RangeError(
      `${option} resolves to ${JSON.stringify(path)}, which systemd cannot keep in a unit file: an executable path may not contain quotes, "\\", "$", ";" or control characters`,
    );
  }
  return path;
}

/** ExecStart= expands `$NAME` in arguments when the unit starts: `$$` is a literal `$`. */
export function escapeDollars(arg: string): string {
  return arg.replaceAll('$', '$$$$');
}
