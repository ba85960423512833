/**
 * Terminal input and output for the CLI: lines from a piped stdin, a line typed at a TTY with or without
 * echo, and text from the RADIUS server made safe to print.
 *
 * @internal
 */
import type { Writable } from 'node:stream';

/** Reads stdin line by line (LF or CR LF), for `--password-stdin` and the challenge code after it. */
export class LineReader {
  private buffer = '';
  private readonly lines: string[] = [];
  private readonly waiters: Array<(line: string | undefined) => void> = [];
  private ended = false;
  private started = false;
  private readonly onData = (chunk: string): void => {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      this.push(this.buffer.slice(0, nl).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(nl + 1);
    }
  };
  private readonly onEnd = (): void => {
    if (this.buffer !== '') this.push(this.buffer);
    this.buffer = '';
    this.ended = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  };

  /** @param input - the stream to read (stdin); reading starts at the first {@link LineReader.next}. */
  constructor(private readonly input: NodeJS.ReadableStream) {}

  private push(line: string): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(line);
    else this.lines.push(line);
  }

  /** The next line without its line ending, or undefined at end of input. */
  next(): Promise<string | undefined> {
    if (!this.started) {
      this.started = true;
      this.input.setEncoding('utf8');
      this.input.on('data', this.onData);
      this.input.on('end', this.onEnd);
      this.input.resume();
    }
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops reading so the process can exit. */
  close(): void {
    if (!this.started) return;
    this.input.removeListener('data', this.onData);
    this.input.removeListener('end', this.onEnd);
    this.input.pause();
  }
}

/** Thrown when the user presses Ctrl-C at a prompt (exit code 130). */
export class InterruptedError extends Error {
  constructor() {
    super('interrupted');
    this.name = 'InterruptedError';
  }
}

/** Keystrokes typed ahead of a prompt (after the Enter that ended the previous one), per terminal. */
const typedAhead = new WeakMap<NodeJS.ReadStream, string>();

/**
 * Reads one line typed at a terminal, in raw mode so that nothing is echoed unless `echo` (then each
 * character is). Backspace and Ctrl-U edit; Enter ends; Ctrl-D on an empty line is end of input
 * (undefined); Ctrl-C rejects with {@link InterruptedError}. The prompt goes to `output`. Keys typed after
 * the Enter are kept for the next call.
 */
export function readFromTerminal(input: NodeJS.ReadStream, output: Writable, prompt: string, echo: boolean): Promise<string | undefined> {
  output.write(prompt);
  return new Promise((resolve, reject) => {
    let value: string[] = [];
    let done = false;
    const finish = (result: string | undefined, rest: string, error?: Error): void => {
      done = true;
      typedAhead.set(input, rest);
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(result);
    };
    const onData = (chunk: string): void => {
      const chars = [...chunk];
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i]!;
        const rest = (): string => chars.slice(i + 1).join('').replace(/^\n/, '');
        if (ch === '\r' || ch === '\n') return finish(value.join(''), rest());
        if (ch === '\u0003') return finish(undefined, '', new InterruptedError());
        if (ch === '\u0004') {
          if (value.length === 0) return finish(undefined, rest());
          continue;
        }
        if (ch === '\u007f' || ch === '\b') {
          if (value.length > 0) {
            value.pop();
            if (echo) output.write('\b \b');
          }
          continue;
        }
        if (ch === '\u0015') {
          if (echo) output.write('\b \b'.repeat(value.length));
          value = [];
          continue;
        }
        // An escape sequence (arrow keys and the like): skip it up to its final letter or tilde.
        if (ch === '\u001b') {
          while (i + 1 < chars.length && !/[A-Za-z~]/.test(chars[i + 1]!)) i++;
          i++;
          continue;
        }
        if (ch < ' ') continue;
        value.push(ch);
        if (echo) output.write(ch);
      }
    };
    input.setEncoding('utf8');
    input.setRawMode(true);
    const ahead = typedAhead.get(input);
    typedAhead.delete(input);
    if (ahead) onData(ahead);
    if (done) return;
    input.on('data', onData);
    input.resume();
  });
}

// C0 and C1 controls, DEL, and Unicode line separators and bidirectional overrides.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from the RADIUS server (Reply-Message, attribute values) made safe for a terminal: control
 * characters, which could drive the terminal, become `\uXXXX`; newlines and tabs are kept when
 * `keepNewlines`, escaped otherwise.
 */
export function safeText(text: string, keepNewlines = true): string {
  const escaped = text.replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return keepNewlines ? escaped : escaped.replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}
