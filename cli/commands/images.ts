import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import { PI_PLATFORMS, planImageBuilds } from '../core/image-build.js';
import { ExitCode, PiswarmError } from '../errors.js';
import { printJson } from '../io.js';
import { PACKAGE_ROOT } from '../paths.js';

export interface ImagesBuildFlags {
  args: string[];
  platform?: string;
  push?: string;
  tag: string;
  base?: string;
}

export async function imagesBuildAction(context: Context, flags: ImagesBuildFlags): Promise<number> {
  const imagesDir = join(PACKAGE_ROOT, 'images');
  const available = readdirSync(imagesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(imagesDir, d.name, 'Dockerfile')))
    .map((d) => d.name)
    .sort();
  const platforms = (flags.platform ?? PI_PLATFORMS.join(',')).split(',').map((p) => p.trim()).filter(Boolean);
  const builds = planImageBuilds(flags.args, available, { imagesDir, platforms, registry: flags.push, tag: flags.tag, base: flags.base });

  const buildx = await context.runner.run('docker', ['buildx', 'version'], { allowFailure: true }).catch(() => ({ code: 127, stdout: '', stderr: '' }));
  if (buildx.code !== 0) {
    throw new PiswarmError('docker buildx is not available here, and multi-platform images need it.', {
      hint: 'Install the buildx plugin (Docker Desktop has it; on Debian/Ubuntu: docker-buildx-plugin from download.docker.com), plus qemu-user-static for the ARM platforms.',
    });
  }
  // The Node.js images ship one bundled file each, made from the sources first.
  if (builds.some((b) => readFileSync(join(imagesDir, b.name, 'Dockerfile'), 'utf8').includes('COPY dist/'))) {
    context.reporter.debug('bundling the Node.js images (npm run build:images)');
    await context.runner.run('npm', ['run', '--silent', '--prefix', PACKAGE_ROOT, 'build:images']);
  }
  for (const build of builds) {
    context.reporter.step(`Building ${build.ref} for ${platforms.join(', ')}`);
    const code = await context.runner.runAttached('docker', build.args);
    if (code !== 0) throw new PiswarmError(`Building ${build.name} failed (docker buildx exited ${code}).`, { hint: 'See buildx\'s output above.' });
  }
  if (context.io.json) printJson(context.io, builds.map((b) => ({ name: b.name, ref: b.ref, platforms })));
  else context.reporter.step(`${builds.length} image(s) ${flags.push ? `pushed to ${flags.push}` : 'loaded'}`);
  return ExitCode.ok;
}
