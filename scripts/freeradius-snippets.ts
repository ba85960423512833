/**
 * The FreeRADIUS 3.2 configuration snippets in docs/freeradius/, one source for three readers: the README
 * section "Registering the app with the RADIUS server" shows them verbatim (test/registration.freeradius.test.ts
 * checks it does), that test applies them to a copy of Debian's stock /etc/freeradius/3.0, and
 * `npm run radius` (scripts/radius.ts) builds its demo server from them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** docs/freeradius/ (resolved from the working directory first: tsx's ESM loader has no real __dirname). */
export const SNIPPET_DIR: string = [join(process.cwd(), 'docs', 'freeradius'), join(__dirname, '..', 'docs', 'freeradius')].find((dir) => {
  try {
    readFileSync(join(dir, 'clients.conf'));
    return true;
  } catch {
    return false;
  }
}) ?? join(process.cwd(), 'docs', 'freeradius');

/** The snippet files, by what they are, and where the README says each goes. */
export const SNIPPETS = {
  /** Appended to clients.conf: the app as a client (NAS). */
  client: 'clients.conf',
  /** First lines of `authorize` in sites-enabled/default: sign Access and Status-Server replies. */
  authorizeFirst: 'authorize-first.conf',
  /** Last lines of `authorize` in sites-enabled/default: the two-factor (TOTP) decision. */
  authorizeLast: 'authorize-last.conf',
  /** Last lines of `authenticate` in sites-enabled/default: password, then Access-Challenge; then the code. */
  authenticate: 'authenticate.conf',
  /** A module (mods-available/totp_used, linked from mods-enabled): each TOTP code accepted once. */
  totpUsed: 'totp-used.conf',
  /** First lines of mods-config/files/authorize (the users file): a password user and a TOTP user. */
  users: 'users',
} as const;

/** One of {@link SNIPPETS}. */
export type SnippetName = keyof typeof SNIPPETS;

/** The placeholders in the snippets that a reader replaces with their own values. */
export const PLACEHOLDERS = {
  /** clients.conf: the app's address as FreeRADIUS sees it. */
  clientAddress: '192.0.2.10',
  /** clients.conf: the shared secret. */
  secret: 'use-a-long-random-secret',
  /** users: carol's base32 TOTP secret. */
  totpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
} as const;

/** The text of a snippet file, exactly as the README shows it. */
export function snippet(name: SnippetName): string {
  return readFileSync(join(SNIPPET_DIR, SNIPPETS[name]), 'utf8');
}

/** The snippet with its placeholders replaced (values must not contain a newline). */
export function filledSnippet(name: SnippetName, values: Partial<Record<keyof typeof PLACEHOLDERS, string>>): string {
  let text = snippet(name);
  for (const [key, value] of Object.entries(values) as Array<[keyof typeof PLACEHOLDERS, string]>) {
    if (/[\r\n"]/.test(value)) throw new Error(`${key}: a newline or quote cannot go into a FreeRADIUS config line`);
    text = text.split(PLACEHOLDERS[key]).join(value);
  }
  return text;
}

/**
 * Inserts `text` into the `{ … }` section that starts on the line `header` (e.g. `authorize {`, at the
 * start of a line, outside comments): right after its opening line (`'start'`) or right before its
 * closing brace (`'end'`). Throws when the section is not found exactly once.
 */
export function insertIntoSection(config: string, header: string, text: string, where: 'start' | 'end'): string {
  const lines = config.split('\n');
  const starts = lines.flatMap((line, i) => (line.replace(/#.*/, '').trim() === header ? [i] : []));
  if (starts.length !== 1) throw new Error(`expected one "${header}" section, found ${starts.length}`);
  const start = starts[0]!;
  if (where === 'start') {
    lines.splice(start + 1, 0, ...text.replace(/\n$/, '').split('\n'));
    return lines.join('\n');
  }
  let depth = 0;
  for (let i = start; i < lines.length; i++) {
    const code = lines[i]!.replace(/#.*/, '');
    for (const ch of code) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
    }
    if (depth === 0) {
      lines.splice(i, 0, ...text.replace(/\n$/, '').split('\n'));
      return lines.join('\n');
    }
  }
  throw new Error(`the "${header}" section does not close`);
}
