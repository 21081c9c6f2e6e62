import { Command } from 'commander';
import { BASE_SUITE, DEBIAN_MIRROR } from './core/image-build.js';
import type { ActionWiring } from './program.js';

/** `piswarm images`: multi-platform images of images/, and the bases they are built on. */
export function imagesCommand(action: ActionWiring): Command {
  const images = new Command('images').description("Build piswarm's images (images/) for every Pi platform");
  images.exitOverride();
  images
    .command('build')
    .description('Build images/ for linux/arm/v6, arm/v7, arm64 and amd64 and push them to your registry as manifest lists, with or without buildx')
    .argument('[name...]', 'images to build (default: all): hello-world, iot-consumer, sensor-simulator')
    .option('--push <registry>', 'registry to push to, e.g. 192.168.1.21:5000')
    .option('--platform <list>', "comma-separated platforms (default: linux/arm/v6,linux/arm/v7,linux/arm64,linux/amd64, or those the base has)")
    .option('--tag <tag>', 'image tag', '1')
    .option('--base <image>', "base image for the Dockerfiles' BASE argument (default: each Dockerfile's own)")
    .option('--base-from <registry>', `bases made by \`piswarm images base\` in this registry (REGISTRY/busybox:${BASE_SUITE}, REGISTRY/node:${BASE_SUITE})`)
    .option('--builder <node>', "build with a Docker engine instead of buildx: a node of the inventory (over SSH), or 'local' for this machine's")
    .addHelpText(
      'after',
      `\nWithout buildx (or with --builder), each platform is one engine build, pushed by digest; the tag, a\nmanifest list, is pushed last, only when every platform built.\n\nExamples:\n  piswarm images build --push 192.168.1.21:5000\n  piswarm images build hello-world --push 192.168.1.21:5000 --builder manager-01 --base-from 192.168.1.21:5000\n  piswarm images build hello-world --platform linux/arm64   # buildx: loaded into the local engine\n`,
    )
    .exitOverride()
    .action(action(async () => (await import('./commands/images.js')).imagesBuildAction));
  images
    .command('base')
    .description("Make a base image from Debian's packages for every platform Debian builds it for, and push it as a manifest list (no Docker Hub needed)")
    .argument('<name>', "busybox (hello-world's base: busybox-static) or node (the IoT images': nodejs and its libraries)")
    .option('--push <registry>', 'registry to push to, e.g. 192.168.1.21:5000')
    .option('--platform <list>', 'comma-separated platforms (default: all the base is made for)')
    .option('--tag <tag>', 'image tag (default: the suite)')
    .option('--suite <suite>', 'Debian suite', BASE_SUITE)
    .option('--mirror <url>', 'Debian mirror', DEBIAN_MIRROR)
    .addHelpText('after', `\nExamples:\n  piswarm images base busybox --push 192.168.1.21:5000\n  piswarm images base node --push 192.168.1.21:5000 --platform linux/arm64\n`)
    .exitOverride()
    .action(action(async () => (await import('./commands/images.js')).imagesBaseAction));
  return images;
}
