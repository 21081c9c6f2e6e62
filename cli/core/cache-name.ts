/**
 * The name a downloaded image is kept under in the cache: the URL's last path segment, decoded
 * (so `hypriotos-rpi-v1.12.3.img.zip` stays readable and keeps the extension that says how to
 * unpack it), with every character that could leave the cache folder or confuse a shell replaced:
 * `..%2F..%2Fx` must not become `../../x` under root.
 */
export function cacheFileName(url: string): string {
  const last = new URL(url).pathname.split('/').pop() ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(last);
  } catch {
    decoded = last;
  }
  const safe = decoded.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^\.+/, '_');
  return safe === '' || safe === '_' ? 'image.img' : safe;
}
