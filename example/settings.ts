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

/** What applies to an organization after inheritance. */
export interface EffectiveSecurity {
  method: AuthenticationMethod;
  providers: string[];
  /** The organization whose own settings these are (itself, or the ancestor it inherits from). */
  from: OrganizationSetting;
}

/** The strategy's options for one server setting. */
export function toServerOptions(s: ServerSetting): RadiusServerOptions {
  return { name: s.name, address: s.address, secret: s.secret, protocol: s.protocol, timeout: Math.round(s.timeoutSeconds * 1000), attributes: s.attributes };
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
