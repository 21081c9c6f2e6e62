import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download } from '../../cli/adapters/image-source.js';
import { cacheFileName } from '../../cli/core/cache-name.js';

/** Each item of the security review with a test that fails on the code it was found in. */
describe('the image cache keeps every download inside it', () => {
  const root = mkdtempSync(join(tmpdir(), 'piswarm-cache-'));
  const cache = join(root, 'a', 'b', 'cache');
  let base = '';
  const server = createServer((_req, res) => res.writeHead(200, { 'content-length': 5 }).end('bytes'));
  beforeAll(async () => {
    mkdirSync(cache, { recursive: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => void server.close());

  it.each([
    ['https://example.org/hypriotos-rpi-v1.12.3.img.zip', 'hypriotos-rpi-v1.12.3.img.zip'],
    ['https://example.org/x/..%2F..%2Fescaped.img', '__.._escaped.img'],
    ['https://example.org/%2E%2E', 'image.img'],
    ['https://example.org/a%00b.img', 'a_b.img'],
    ['https://example.org/dir/', 'image.img'],
    ['https://example.org/..%5C..%5Cwin.img', '__.._win.img'],
    ['https://example.org/bad%E0%A4%A', 'bad_E0_A4_A'],
  ])('%s is cached as %s', (url, name) => {
    expect(cacheFileName(url)).toBe(name);
  });

  it('writes a URL ending in ..%2F..%2F into the cache, not two folders up', async () => {
    const previous = process.env.PISWARM_CACHE;
    process.env.PISWARM_CACHE = cache;
    try {
      const path = await download(`${base}/x/..%2F..%2Fescaped.img`, () => undefined);
      expect(path).toBe(join(cache, '__.._escaped.img'));
      expect(readdirSync(cache)).toEqual(['__.._escaped.img']);
      expect(existsSync(join(root, 'a', 'escaped.img'))).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.PISWARM_CACHE;
      else process.env.PISWARM_CACHE = previous;
    }
  });
});
