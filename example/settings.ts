/**
 * The console's settings, as the seed's administrator sees them: RADIUS servers (Settings > Security >
 * RADIUS) and organizations (system-wide → organizations → child organizations), each inheriting its
 * parent's security settings or setting its own. Plain data (JSON-safe) and pure functions; storing them
 * is ./settings-store.ts, applying them to the strategy is ./radius.ts.
 */
import type { RadiusServerOptions } from '../lib';

/** One RADIUS server as the admin configures it (the seed's "RADIUS Server Setup" fields). */
export interface ServerSetting {
  /** "Server Name": how the console, its log and its organizations name the server. */
  name: string;
  /** `hostname:port` (or an IP address; port 1812 when left out). */
  address: string;
  /** The shared secret. Write-only in the console: never shown back, never logged. */
  secret: string;
  /** Attribute/value pairs sent with each Access-Request; NAS-Identifier or NAS-IP-Address is required. */
  attributes: Array<[string, string]>;
  /** "Timeout seconds" for every request to this server. */
  timeoutSeconds: number;
  /** CHAP (the password is not sent) or PAP (the password is sent hidden with the shared secret). */
  protocol: 'pap' | 'chap';
  /**
   * Let an empty response answer this server's Access-Challenge (FortiAuthenticator: empty → push;
   * privacyIDEA: poll a push token): the challenge page then lets the code field be left empty. Default false.
   */
  allowEmptyResponse?: boolean;
  /** Where Accounting-Requests go (`hostname:port`), when the console keeps accounting. Default: the address's host, port 1813. */
  accountingAddress?: string;
  /** Set for the embedded demo servers: their address and secret are renewed at each start. */
  demo?: boolean;
}

/** How an organization's users sign in. */
export type AuthenticationMethod = 'radius' | 'none';

/** One organization of the tree; the system-wide organization has the id `'system'` and no parent. */
export interface OrganizationSetting {
  /** Stable id (URL-safe). */
  id: string;
  name: string;
  /** The parent's id; absent only for the system-wide organization. */
  parent?: string;
  /**
   * Users whose name ends in `@domain` belong here (compared case-insensitively); users of no
   * organization's domain belong to the system-wide organization.
   */
  domain?: string;
  /**
   * User names that belong here whatever their domain (the seed's "add a test user to the organization"),
   * compared case-insensitively. Default none.
   */
  users?: string[];
  /** "Inherit security settings from parent" (never for the system-wide organization). */
  inherit: boolean;
  /** Own security settings (used when `inherit` is false). */
  method: AuthenticationMethod;
  /** "Choose provider(s)": server names, consulted in this order. */
  providers: string[];
}

/** Everything the console stores. */
export interface Settings {
  servers: ServerSetting[];
  /** The system-wide organization first; every other one names an existing parent. */
  organizations: OrganizationSetting[];
}

/** The id of the system-wide organization, the root of the tree. */
export const SYSTEM_ID = 'system';

/**
 * Characters a name shown in the console and written to its log must not hold: control characters (C0,
 * DEL, C1: a line feed would forge a log line), line and paragraph separators, and the bidirectional
 * formatting characters (U+061C, U+200E/U+200F, U+202A–U+202E, U+2066–U+2069: an override shows a log
 * line reversed, "Trojan Source", CVE-2021-42574).
 */
const UNSAFE_IN_NAMES = /[\p{Cc}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/** `U+202E` for each unsafe character of `text` (for messages: the character itself must not be echoed). */
function unsafeCharacters(text: string): string[] {
  const found = new Set<string>();
  for (const ch of text) if (UNSAFE_IN_NAMES.test(ch)) found.add(`U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  return [...found];
}

/** `text` with every unsafe character written as `<U+XXXX>`: safe to show and to log. */
export function visibleName(text: string): string {
  let out = '';
  for (const ch of text) out += UNSAFE_IN_NAMES.test(ch) ? `<U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>` : ch;
  return out;
}

/**
 * Checks a name (server, organization, domain, listed user) the console shows and logs.
 * @param what - how the message names the field, e.g. `'The server name'`.
 * @throws TypeError saying which characters are refused (by code point, never the character itself).
 */
export function checkName(text: string, what: string): void {
  const bad = unsafeCharacters(text);
  if (bad.length > 0) {
    throw new TypeError(`${what} must not contain control characters, line breaks or bidirectional-text controls (found ${bad.join(', ')}).`);
  }
}

/** What applies to an organization after inheritance. */
export interface EffectiveSecurity {
  method: AuthenticationMethod;
  providers: string[];
  /** The organization whose own settings these are (itself, or the ancestor it inherits from). */
  from: OrganizationSetting;
}

/** The strategy's options for one server setting. */
export function toServerOptions(s: ServerSetting): RadiusServerOptions {
  return {
    name: s.name,
    address: s.address,
    secret: s.secret,
    protocol: s.protocol,
    timeout: Math.round(s.timeoutSeconds * 1000),
    attributes: s.attributes,
    ...(s.allowEmptyResponse ? { allowEmptyResponse: true } : {}),
    ...(s.accountingAddress ? { accountingAddress: s.accountingAddress } : {}),
  };
}

/** A server setting from strategy options (for the first start from RADIUS_* variables or the demo). */
export function fromServerOptions(s: RadiusServerOptions, demo = false): ServerSetting {
  const attributes = Array.isArray(s.attributes) ? s.attributes : Object.entries(s.attributes);
  return {
    name: s.name,
    address: s.address,
    secret: Buffer.isBuffer(s.secret) ? s.secret.toString('utf8') : (s.secret ?? ''),
    attributes: attributes.map(([name, value]) => [name, Buffer.isBuffer(value) ? value.toString('utf8') : String(value)]),
    timeoutSeconds: (s.timeout ?? 5000) / 1000,
    protocol: s.protocol ?? 'pap',
    ...(s.allowEmptyResponse ? { allowEmptyResponse: true } : {}),
    ...(s.accountingAddress ? { accountingAddress: s.accountingAddress } : {}),
    ...(demo ? { demo: true } : {}),
  };
}

/** The organization by id. */
export function findOrganization(settings: Settings, id: string): OrganizationSetting | undefined {
  return settings.organizations.find((o) => o.id === id);
}

/** The system-wide organization. */
export function systemOrganization(settings: Settings): OrganizationSetting {
  const system = findOrganization(settings, SYSTEM_ID);
  if (!system) throw new Error('settings: the system-wide organization is missing');
  return system;
}

/**
 * The organization a user name belongs to: the one listing it among its users, else the one whose domain
 * ends it (after the last `@`), else the system-wide organization.
 */
export function organizationOfUser(settings: Settings, username: string): OrganizationSetting {
  const name = username.toLowerCase();
  const member = settings.organizations.find((o) => o.users?.some((u) => u.toLowerCase() === name));
  if (member) return member;
  const at = username.lastIndexOf('@');
  if (at >= 0) {
    const domain = username.slice(at + 1).toLowerCase();
    const found = settings.organizations.find((o) => o.domain !== undefined && o.domain.toLowerCase() === domain);
    if (found) return found;
  }
  return systemOrganization(settings);
}

/** The security settings that apply to `org`: its own, or the nearest ancestor's that does not inherit. */
export function effectiveSecurity(settings: Settings, org: OrganizationSetting): EffectiveSecurity {
  let current = org;
  for (let depth = 0; current.inherit && current.parent !== undefined && depth < settings.organizations.length; depth++) {
    const parent = findOrganization(settings, current.parent);
    if (!parent) break;
    current = parent;
  }
  return { method: current.method, providers: current.method === 'radius' ? current.providers : [], from: current };
}

/** Servers to try for a user name, in order: `[]` when the user's organization has RADIUS sign-in off. */
export function providersForUser(settings: Settings, username: string): string[] {
  return effectiveSecurity(settings, organizationOfUser(settings, username)).providers;
}

/** Organizations in tree order (parents before children) with their depth, for lists and pickers. */
export function organizationTree(settings: Settings): Array<{ org: OrganizationSetting; depth: number }> {
  const out: Array<{ org: OrganizationSetting; depth: number }> = [];
  const visit = (org: OrganizationSetting, depth: number): void => {
    out.push({ org, depth });
    for (const child of settings.organizations.filter((o) => o.parent === org.id)) visit(child, depth + 1);
  };
  visit(systemOrganization(settings), 0);
  return out;
}

/** Organizations (by name) whose own settings choose `server`. */
export function organizationsUsing(settings: Settings, server: string): string[] {
  return settings.organizations.filter((o) => o.providers.includes(server)).map((o) => o.name);
}

/** Starting settings: these servers; a system-wide organization using `systemProviders` (default: all). */
export function initialSettings(servers: ServerSetting[], organizations: OrganizationSetting[] = [], systemProviders?: string[]): Settings {
  return {
    servers,
    organizations: [
      { id: SYSTEM_ID, name: 'System-wide', inherit: false, method: 'radius', providers: systemProviders ?? servers.map((s) => s.name) },
      ...organizations,
    ],
  };
}

/**
 * Checks the parts of settings that the strategy does not (it checks each server): unique names and ids,
 * parents that exist without cycles, providers that exist. Throws TypeError with a sentence for the admin.
 */
export function checkSettings(settings: Settings): void {
  // Names come from forms, RADIUS_SERVERS, the settings file or Redis: each is checked where it is named.
  settings.servers.forEach((s, i) => checkName(s.name, `Server ${i + 1} ("${visibleName(s.name)}"): its name`));
  settings.organizations.forEach((o, i) => {
    const label = `Organization ${i + 1} ("${visibleName(o.name)}")`;
    checkName(o.name, `${label}: its name`);
    if (o.domain !== undefined) checkName(o.domain, `${label}: its domain`);
    for (const u of o.users ?? []) checkName(u, `${label}: the user "${visibleName(u)}"`);
  });
  const names = new Set<string>();
  for (const s of settings.servers) {
    if (names.has(s.name)) throw new TypeError(`There is already a server named "${s.name}".`);
    names.add(s.name);
  }
  systemOrganization(settings);
  const ids = new Set<string>();
  const domains = new Set<string>();
  for (const o of settings.organizations) {
    if (ids.has(o.id)) throw new TypeError(`Two organizations have the id "${o.id}".`);
    ids.add(o.id);
    if (o.domain !== undefined) {
      const d = o.domain.toLowerCase();
      if (domains.has(d)) throw new TypeError(`Two organizations use the domain "${o.domain}".`);
      domains.add(d);
    }
    for (const u of o.users ?? []) {
      const key = `user:${u.toLowerCase()}`;
      if (domains.has(key)) throw new TypeError(`The user "${u}" is listed in two organizations.`);
      domains.add(key);
    }
    for (const p of o.providers) if (!names.has(p)) throw new TypeError(`${o.name} chooses the server "${p}", which is not configured.`);
  }
  for (const o of settings.organizations) {
    if (o.id === SYSTEM_ID) continue;
    let current: OrganizationSetting | undefined = o;
    for (let depth = 0; current && current.id !== SYSTEM_ID; depth++) {
      if (depth > settings.organizations.length) throw new TypeError(`${o.name}: its parents form a loop.`);
      if (current.parent === undefined || !ids.has(current.parent)) throw new TypeError(`${current.name}: its parent organization does not exist.`);
      current = findOrganization(settings, current.parent);
    }
  }
}

/** What a change of settings does to the sign-in of the administrator making it (see {@link selfImpact}). */
export interface SelfImpact {
  /** Why the change is refused: it would leave the admin's own organization without any server. */
  lockout?: string;
  /** What changed in the admin's own sign-in: shown on the next page, the change is made. */
  warning?: string;
}

/**
 * The guard against an administrator locking themselves out: a change after which the admin's own
 * organization (as their user name falls now) has no server — method None, no provider chosen or
 * inherited — is refused, unless it had none before either. A change that keeps servers but changes them
 * (another organization, other providers or order, a provider's address, secret, protocol or attributes)
 * is made with a warning: whether the new server accepts the admin, and sends Class "admins", only a
 * sign-in can tell.
 */
export function selfImpact(before: Settings, after: Settings, admin: { username: string; server: string }): SelfImpact {
  const orgBefore = organizationOfUser(before, admin.username);
  const orgAfter = organizationOfUser(after, admin.username);
  const was = effectiveSecurity(before, orgBefore).providers;
  const now = effectiveSecurity(after, orgAfter).providers;
  if (now.length === 0 && was.length > 0) {
    return {
      lockout:
        `This change would leave your own organization (${orgAfter.name}) without a RADIUS server: you could not sign in again. ` +
        'Choose a provider for it, or make this change signed in as an administrator of another organization.',
    };
  }
  const server = (settings: Settings, name: string): string => JSON.stringify(settings.servers.find((s) => s.name === name) ?? null);
  const changed = now.filter((name) => was.includes(name) && server(before, name) !== server(after, name));
  const parts: string[] = [];
  if (orgAfter.id !== orgBefore.id) parts.push(`you now belong to ${orgAfter.name}`);
  if (now.join('\n') !== was.join('\n')) parts.push(`your organization now signs in with ${now.join(', ') || 'no server'} (was ${was.join(', ') || 'none'})`);
  if (changed.length > 0) parts.push(`${changed.join(', ')}, which you sign in with, changed`);
  const exists = (settings: Settings): boolean => settings.servers.some((s) => s.name === admin.server);
  if (exists(before) && !exists(after)) parts.push(`${admin.server}, which signed you in, was deleted`);
  if (parts.length === 0) return {};
  const accepted = now.includes(admin.server) ? '' : ` You were signed in by ${admin.server}.`;
  return {
    warning:
      `Your own sign-in changed: ${parts.join('; ')}.${accepted} Before you sign out, sign in from a private window ` +
      'to check that you are still accepted as an administrator (Class "admins").',
  };
}
