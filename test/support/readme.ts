/**
 * Test helper: the README's TypeScript blocks as files. A block whose first line is `// file: NAME.ts`
 * is written under that name (blocks of one app import each other by those names); any other block is
 * written as `readme-<line>.ts`, after the README line its fence opens on.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { appWithPackage, ROOT, type AppFolder } from './pack';
import { freeTcpPort } from './ports';
import { killOnExit } from './requirements';

const run = promisify(execFile);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** One ```ts block of the README. */
export interface ReadmeBlock {
  /** The file name it is compiled as. */
  file: string;
  /** The 1-based README line of its opening fence. */
  line: number;
  /** The block's text, ending with a newline. */
  text: string;
}

/** Every ```ts (or ```typescript) block of README.md, in order. */
export function readmeTypeScriptBlocks(readme = readFileSync(join(ROOT, 'README.md'), 'utf8')): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const named = /^\/\/ file: ([\w./-]+\.ts)\s*$/.exec(body[0] ?? '');
    blocks.push({ file: named ? named[1]! : `readme-${start + 1}.ts`, line: start + 1, text: body.join('\n') + '\n' });
  }
  return blocks;
}

/** Both configurations set what NestJS needs (decorators with metadata); the rest is each kind's own. */
const DECORATORS = { experimentalDecorators: true, emitDecoratorMetadata: true };

/** The two ways users compile: name → package type and compiler options. */
export const README_CONFIGS: Record<string, { type: 'commonjs' | 'module'; compilerOptions: Record<string, unknown> }> = {
  'CommonJS with esModuleInterop': {
    type: 'commonjs',
    compilerOptions: { module: 'commonjs', target: 'es2022', esModuleInterop: true, strict: true, skipLibCheck: true, ...DECORATORS },
  },
  'ES modules with "module": "nodenext"': {
    type: 'module',
    compilerOptions: {
      module: 'nodenext',
      target: 'esnext',
      strict: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      ...DECORATORS,
    },
  },
};

/** Compiles every README block in `app` under `config`; resolves with tsc's output ('' when clean). */
export async function compileReadme(app: AppFolder, name: string): Promise<string> {
  const config = README_CONFIGS[name]!;
  const dir = config.type === 'module' ? 'esm' : 'cjs';
  const files: Record<string, string> = {
    [`${dir}/package.json`]: JSON.stringify({ type: config.type }),
    [`${dir}/tsconfig.json`]: JSON.stringify({ compilerOptions: { ...config.compilerOptions, types: ['node'], outDir: 'out', rootDir: '.' }, include: ['*.ts'] }),
  };
  for (const block of readmeTypeScriptBlocks()) files[`${dir}/${block.file}`] = block.text;
  app.write(files);
  try {
    await run(process.execPath, [TSC, '-p', join(app.dir, dir)], { cwd: join(app.dir, dir) });
    return '';
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? String(err);
  }
}

/** An app from the README running as its own process; `stop()` ends it and removes its folder. */
export interface ReadmeApp {
  /** `http://127.0.0.1:<port>`. */
  base: string;
  /** Stops the process and deletes the app folder. */
  stop(): Promise<void>;
}

/**
 * Compiles the README's blocks as ES modules against the packed package, starts `out/<entry>.js` with
 * `env` and PORT set to a free port, and resolves once it answers HTTP on `probePath`.
 */
export async function runReadmeApp(entry: string, env: Record<string, string>, probePath = '/'): Promise<ReadmeApp> {
  const app = await appWithPackage();
  const errors = await compileReadme(app, 'ES modules with "module": "nodenext"');
  if (errors !== '') {
    app.remove();
    throw new Error(`the README does not compile:\n${errors}`);
  }
  const port = await freeTcpPort();
  const base = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(process.execPath, [`out/${entry}.js`], {
    cwd: join(app.dir, 'esm'),
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    app.remove();
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || i === 200) {
      await stop();
      throw new Error(`the README app ${entry} did not start:\n${output}`);
    }
    try {
      await fetch(base + probePath);
      return { base, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
