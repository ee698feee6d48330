// Text checks shared by the server and the in-page runner (no Node imports).

/**
 * True when a text has nothing a model could read: only white space (Unicode White_Space, which
 * `trim()` also removes) and invisible format characters such as the zero-width space U+200B or the
 * word joiner U+2060, which `trim()` keeps.
 */
export function isBlank(text: string): boolean {
  return /^[\p{White_Space}\p{Cf}]*$/u.test(text);
}
