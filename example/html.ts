/**
 * The console's page frame: header with the navigation for the signed-in user (admin pages only for
 * admins), the title, messages, and the stylesheet (example/public/console.css). Every piece of text from
 * a user, the settings or a RADIUS server goes through {@link escapeHtml}.
 */
import type { ExampleUser } from './radius';

/** Escapes text for HTML (Reply-Message is untrusted text from the RADIUS server; names come from forms). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** How a page is framed. */
export interface PageOptions {
  title: string;
  /** The signed-in user: shows the navigation. */
  user?: ExampleUser | undefined;
  /** Path of the navigation entry to highlight. */
  active?: string;
  /** A centred card (sign-in pages) instead of the wide console layout. */
  card?: boolean;
  /** Extra script from /assets (same origin: the Content-Security-Policy allows nothing else). */
  script?: string;
}

const ADMIN_LINKS: Array<[string, string]> = [
  ['/settings/radius', 'RADIUS servers'],
  ['/organizations', 'Organizations'],
  ['/alerts', 'Alerts and log'],
  ['/status', 'Server status'],
];

function nav(user: ExampleUser, active: string | undefined): string {
  const links: Array<[string, string]> = [['/account', 'Account'], ...(user.role === 'admin' ? ADMIN_LINKS : [])];
  const items = links
    .map(([href, label]) => `<a href="${href}"${href === active ? ' aria-current="page"' : ''}>${escapeHtml(label)}</a>`)
    .join('');
  return `<nav aria-label="Console">${items}</nav>
<form method="post" action="/logout" class="signout"><span class="who">${escapeHtml(user.username)}</span><button type="submit" class="link">Sign out</button></form>`;
}

/** A whole HTML page. */
export function page(options: PageOptions, body: string): string {
  const header = options.user ? `<header class="bar"><span class="brand">RADIUS Console</span>${nav(options.user, options.active)}</header>` : '';
  const main = options.card
    ? `<main class="card"><p class="brand">RADIUS Console</p><h1>${escapeHtml(options.title)}</h1>\n${body}\n</main>`
    : `<main class="wide"><h1>${escapeHtml(options.title)}</h1>\n${body}\n</main>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="/assets/console.css">
${options.script ? `<script src="/assets/${options.script}" defer></script>\n` : ''}</head>
<body${options.card ? ' class="centred"' : ''}>
${header}
${main}
</body>
</html>`;
}

/** A message paragraph: `error` and `warn` → role=alert, `ok` → role=status. */
export function message(kind: 'error' | 'warn' | 'ok', text: string | undefined): string {
  if (!text) return '';
  return `<p class="message ${kind}" role="${kind === 'ok' ? 'status' : 'alert'}">${escapeHtml(text)}</p>`;
}
