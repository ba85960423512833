/**
 * JSON that may hold configuration (server lists with shared secrets): parse errors say where, never what.
 * Node's `JSON.parse` messages quote the input around the error (`..."secret":TOPSECRET-"... is not valid
 * JSON`), so they must not reach a message, a log or an error's `cause`. The position comes from
 * jsonc-parser (strict JSON: no comments, no trailing commas), which reports an offset and an error kind.
 *
 * @internal
 */
import { parse as scan, printParseErrorCode, type ParseError } from 'jsonc-parser';

/** Plain words for jsonc-parser's error kinds. */
const KINDS: Readonly<Record<string, string>> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'property name expected',
  ValueExpected: 'value expected',
  ColonExpected: 'colon expected',
  CommaExpected: 'comma expected',
  CloseBraceExpected: 'closing brace expected',
  CloseBracketExpected: 'closing bracket expected',
  EndOfFileExpected: 'unexpected text after the end',
  InvalidCommentToken: 'comments are not JSON',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'malformed number',
  InvalidUnicode: 'malformed \\u escape',
  InvalidEscapeCharacter: 'malformed escape',
  InvalidCharacter: 'control character in a string',
};

/** Where the first syntax error of `text` is, in words: `value expected at line 1, column 29`. Never quotes `text`. */
export function jsonErrorPosition(text: string): string {
  const errors: ParseError[] = [];
  scan(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  // Something JSON.parse refuses and jsonc-parser accepts (e.g. a lone surrogate): no position, still no excerpt.
  if (!first) return 'syntax error';
  const before = text.slice(0, first.offset);
  const line = before.split('\n').length;
  const column = first.offset - (before.lastIndexOf('\n') + 1) + 1;
  return `${KINDS[printParseErrorCode(first.error)] ?? 'syntax error'} at line ${line}, column ${column}`;
}

/**
 * `JSON.parse(text)`, or `onError(position)` (which throws) with {@link jsonErrorPosition}'s words. The
 * SyntaxError is dropped on purpose: its message quotes the input.
 */
export function parseJson(text: string, onError: (position: string) => never): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return onError(jsonErrorPosition(text));
  }
}
