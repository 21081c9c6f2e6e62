/** What an SSH server's identification line ("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3") says about it. */
export interface SshBanner {
  /** The software and version, e.g. "OpenSSH 9.2p1". */
  software: string;
  /** A distribution hint from the comment, e.g. "Debian 12", "Raspbian 11", "Ubuntu". */
  distro?: string;
}

const DEBIAN_RELEASE = /\+deb(\d+)u\d+/;

/** Undefined when the line is not an SSH identification line (RFC 4253 §4.2). */
export function parseSshBanner(line: string): SshBanner | undefined {
  const match = /^SSH-(2\.0|1\.99)-(\S+)(?: (.*))?$/.exec(line.trim());
  if (!match) return undefined;
  const [name, ...version] = match[2]!.split('_');
  const software = version.length > 0 ? `${name} ${version.join('_')}` : name!;
  const comment = match[3] ?? '';
  const family = /^(Debian|Raspbian|Ubuntu)\b/i.exec(comment)?.[1];
  if (!family) return { software };
  const release = DEBIAN_RELEASE.exec(comment)?.[1];
  return { software, distro: release && family !== 'Ubuntu' ? `${family} ${release}` : family };
}
