import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadCompose, nameFileObjects, objectNames, withExternalObjects, type ComposeStack } from '../../core/compose-file.js';
import { parseDotEnv } from '../../core/compose/dotenv.js';
import { ComposeError, UsageError } from '../../errors.js';

export interface ComposeInput {
  stack: ComposeStack;
  /** Reads a secret's or config's file as the compose file names it (relative to the first file, as Docker resolves it). */
  readObject: (file: string) => Promise<string>;
  /** That file's absolute path. */
  sourceOf: (file: string) => string;
}

/**
 * Reads and checks compose files as `stack deploy` and `stack config` take them: variables from
 * `env`, then from the .env beside the first file; env_file and secret files relative to the
 * first file's folder.
 */
export async function readComposeInput(paths: readonly string[], env: NodeJS.ProcessEnv): Promise<ComposeInput> {
  const files = await Promise.all(
    paths.map(async (path) => ({
      path,
      text: await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`Can't read the compose file ${path} (${error.code}).`, 'Check the path.');
      }),
    })),
  );
  const folder = dirname(paths[0]!);
  const dotEnv = join(folder, '.env');
  const variables = { ...(existsSync(dotEnv) ? parseDotEnv(readFileSync(dotEnv, 'utf8')) : {}), ...env };
  const readEnvFile = (file: string) => {
    try {
      return readFileSync(resolve(folder, file), 'utf8');
    } catch (error) {
      throw new ComposeError(paths[0]!, [{ field: 'env_file', message: `can't read ${file} (${(error as NodeJS.ErrnoException).code}), relative to ${folder}` }]);
    }
  };
  const stack = loadCompose(files, variables, { readEnvFile });
  const readObject = (file: string) =>
    readFile(resolve(folder, file), 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`Can't read ${file}, which ${paths[0]} names for a secret or config (${error.code}).`, 'Create the file, or fix the path (relative to the compose file).');
    });
  return { stack, readObject, sourceOf: (file: string) => resolve(folder, file) };
}

/** The text a deploy sends, secrets and configs from files named as the deploy names them. */
export async function textToSend(input: ComposeInput, stackName: string): Promise<string> {
  const { stack, readObject } = input;
  if (stack.fileObjects.length === 0) return stack.text;
  return withExternalObjects(stack, objectNames(await nameFileObjects(stack, stackName, readObject)));
}
