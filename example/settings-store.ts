/**
 * Where the console's settings live across restarts: a JSON file by default (readable by the app's user
 * only: it holds shared secrets), or Redis when `REDIS_URL` is set, so that every instance shares them
 * and picks up a change another instance saved (a Redis publish tells the others to reload).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createClient } from 'redis';
import { parseJson } from '../lib/json';
import type { Settings } from './settings';

/** Loads and saves {@link Settings}. */
export interface SettingsStore {
  /** Where the settings are, for the start banner (never a password). */
  readonly where: string;
  /** The saved settings, or undefined when nothing was saved yet. */
  load(): Promise<Settings | undefined>;
  /** Saves the settings (and tells other instances, with Redis). */
  save(settings: Settings): Promise<void>;
  /** Calls `listener` with the new settings when another instance saved them. */
  watch(listener: (settings: Settings) => void): void;
  /** Lets go of files or connections. */
  close(): Promise<void>;
}

function parse(text: string, where: string): Settings {
  // Only the position: the settings hold shared secrets, and Node's JSON.parse message would quote them.
  const value = parseJson(text, (position) => {
    throw new Error(`The settings in ${where} are not valid JSON (${position})`);
  }) as Settings;
  if (typeof value !== 'object' || value === null || !Array.isArray(value.servers) || !Array.isArray(value.organizations)) {
    throw new Error(`The settings in ${where} are not console settings`);
  }
  return value;
}

/** Settings in memory only (tests; a process that must not write files). */
export class MemorySettingsStore implements SettingsStore {
  readonly where = 'memory (lost at exit)';
  private text: string | undefined;
  load(): Promise<Settings | undefined> {
    return Promise.resolve(this.text === undefined ? undefined : parse(this.text, this.where));
  }
  save(settings: Settings): Promise<void> {
    this.text = JSON.stringify(settings);
    return Promise.resolve();
  }
  watch(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Settings in a JSON file, written whole to a temporary file and renamed over the old one. */
export class FileSettingsStore implements SettingsStore {
  constructor(readonly where: string) {}

  async load(): Promise<Settings | undefined> {
    let text: string;
    try {
      text = await readFile(this.where, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return parse(text, this.where);
  }

  async save(settings: Settings): Promise<void> {
    await mkdir(dirname(this.where), { recursive: true, mode: 0o700 });
    const temp = `${this.where}.${randomBytes(6).toString('hex')}.tmp`;
    // 0600: the file holds shared secrets.
    await writeFile(temp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, this.where);
  }

  watch(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Settings under one Redis key; a publish on the same name tells the other instances to reload. */
export class RedisSettingsStore implements SettingsStore {
  readonly where: string;
  private readonly client;
  private readonly subscriber;
  private readonly id = randomBytes(8).toString('hex');
  private readonly listeners: Array<(settings: Settings) => void> = [];

  /** @param url - `redis://…`; @param key - the key and channel name. Call {@link RedisSettingsStore.connect} next. */
  constructor(url: string, private readonly key = 'passport-radius:console:settings') {
    const parsed = new URL(url);
    this.where = `Redis at ${parsed.protocol}//${parsed.host} (key ${key})`; // never the user name or password
    this.client = createClient({ url });
    this.subscriber = this.client.duplicate();
    // Errors are reported by the commands that fail; without a listener an 'error' would end the process.
    this.client.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
  }

  /** Connects both connections and subscribes to changes. */
  async connect(): Promise<this> {
    await Promise.all([this.client.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(this.key, (message) => {
      if (message === this.id) return; // our own save
      void this.load().then(
        (settings) => {
          if (settings) for (const listener of this.listeners) listener(settings);
        },
        () => undefined,
      );
    });
    return this;
  }

  async load(): Promise<Settings | undefined> {
    const text = await this.client.get(this.key);
    return text === null ? undefined : parse(text, this.where);
  }

  async save(settings: Settings): Promise<void> {
    await this.client.set(this.key, JSON.stringify(settings));
    await this.client.publish(this.key, this.id);
  }

  watch(listener: (settings: Settings) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber.close(), this.client.close()]);
  }
}

/**
 * The store for the example: Redis when `redisUrl` is set, else the JSON file `file`.
 * @throws Error when Redis cannot be reached.
 */
export async function createSettingsStore(options: { redisUrl?: string | undefined; file: string; redisKey?: string }): Promise<SettingsStore> {
  if (options.redisUrl) return new RedisSettingsStore(options.redisUrl, options.redisKey).connect();
  return new FileSettingsStore(options.file);
}
