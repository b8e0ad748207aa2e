// Usage errors of every `proclaunch` command: one line saying what is wrong, one
// pointing at --help, exit status 2; misspelled names get a "did you mean".
import { closestName } from '../common/validate.js';

export const USAGE_EXIT = 2;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** "unknown option --redy (did you mean --ready?)" */
export function unknownOption(option: string, known: readonly string[]): UsageError {
  return new UsageError(`unknown option ${option}${suggestionFor(option, known)}`);
}

/** " (did you mean X?)", or '' when nothing is close. */
export function suggestionFor(given: string, known: readonly string[]): string {
  // One letter ("-x") is close to every short option: no guess is better than a wrong one.
  if (given.replace(/^-+/, '').length < 2) return '';
  const suggestion = uniquePrefixMatch(given, known) ?? closestName(given, known);
  return suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
}

// A cut-off long option ("--ready-time") may be closer to a shorter name (--ready) by
// edit distance, yet it names one option only.
function uniquePrefixMatch(given: string, known: readonly string[]): string | undefined {
  if (given.length < 4) return undefined;
  const matches = known.filter((name) => name.startsWith(given));
  return matches.length === 1 ? matches[0] : undefined;
}

/** The two lines a usage error prints on stderr; `command` is e.g. "proclaunch run". */
export function usageErrorText(command: string, message: string): string {
  return `${command}: ${message}\nTry '${command} --help'.\n`;
}
