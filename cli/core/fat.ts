import { PiswarmError } from '../errors.js';

/**
 * Reads and writes files in the root directory of a FAT16/FAT32 filesystem, without mounting it:
 * enough to personalise a Pi's boot partition (user-data, meta-data, network-config, cmdline.txt).
 * Every change is written to all FAT copies; long file names are written as VFAT entries.
 */
export interface BlockIo {
  /** Reads into `into` when given (it must hold `length` bytes), else into a new buffer. */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  write(offset: number, data: Buffer): Promise<void>;
}

export class FatError extends PiswarmError {}

interface Geometry {
  type: 'FAT16' | 'FAT32';
  bytesPerSector: number;
  clusterSize: number;
  fatOffset: number;
  fatSize: number;
  numFats: number;
  /** FAT16: byte range of the fixed root directory. FAT32: its first cluster. */
  rootDirOffset: number;
  rootDirSize: number;
  rootCluster: number;
  dataOffset: number;
  clusterCount: number;
}

interface DirEntry {
  name: string;
  shortName: string;
  /** Byte offsets (in the filesystem) of this file's LFN entries and its short entry, in order. */
  slots: number[];
  firstCluster: number;
  size: number;
  isDirectory: boolean;
}

const ENTRY = 32;
const ATTR_LFN = 0x0f;
const ATTR_DIRECTORY = 0x10;
const ATTR_VOLUME = 0x08;
const ATTR_ARCHIVE = 0x20;

export class FatFilesystem {
  private fat!: Buffer;

  private constructor(
    private readonly io: BlockIo,
    readonly geometry: Geometry,
  ) {}

  static async open(io: BlockIo): Promise<FatFilesystem> {
    const fs = new FatFilesystem(io, parseBootSector(await io.read(0, 512)));
    const g = fs.geometry;
    fs.fat = await io.read(g.fatOffset, g.fatSize);
    return fs;
  }

  async list(): Promise<string[]> {
    return (await this.rootEntries()).filter((e) => !e.isDirectory).map((e) => e.name);
  }

  async readFile(name: string): Promise<Buffer | undefined> {
    const entry = await this.find(name);
    if (!entry) return undefined;
    const chain = this.chain(entry.firstCluster);
    const parts = await Promise.all(chain.map((c) => this.io.read(this.clusterOffset(c), this.geometry.clusterSize)));
    return Buffer.concat(parts).subarray(0, entry.size);
  }

  async readText(name: string): Promise<string | undefined> {
    return (await this.readFile(name))?.toString('utf8');
  }

  /** Creates or replaces a file in the root directory. */
  async writeFile(name: string, data: Buffer | string): Promise<void> {
    const content = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    validateLongName(name);
    const existing = await this.find(name);
    if (existing?.isDirectory) throw new FatError(`"${name}" is a directory on the boot partition.`);
    if (existing) this.freeChain(existing.firstCluster);
    const clusters = this.allocate(Math.ceil(content.length / this.geometry.clusterSize));
    for (const [i, cluster] of clusters.entries()) {
      const chunk = Buffer.alloc(this.geometry.clusterSize);
      content.copy(chunk, 0, i * this.geometry.clusterSize);
      await this.io.write(this.clusterOffset(cluster), chunk);
    }
    const first = clusters[0] ?? 0;
    if (existing) {
      const at = existing.slots[existing.slots.length - 1]!;
      const short = await this.io.read(at, ENTRY);
      setCluster(short, first);
      short.writeUInt32LE(content.length, 28);
      stampTime(short);
      await this.flushFat();
      await this.io.write(at, short);
      return;
    }
    const entries = await this.rootEntries();
    const shortName = uniqueShortName(name, new Set(entries.map((e) => e.shortName)));
    const slotsData = buildEntries(name, shortName, first, content.length);
    const slots = await this.freeSlots(slotsData.length / ENTRY);
    await this.flushFat();
    for (const [i, slot] of slots.entries()) await this.io.write(slot, slotsData.subarray(i * ENTRY, (i + 1) * ENTRY));
  }

  private async find(name: string): Promise<DirEntry | undefined> {
    const wanted = name.toLowerCase();
    return (await this.rootEntries()).find((e) => e.name.toLowerCase() === wanted || e.shortName.toLowerCase() === wanted);
  }

  /** Byte offsets of every slot of the root directory, in order. */
  private rootSlots(): number[] {
    const g = this.geometry;
    const regions = g.type === 'FAT16' ? [{ offset: g.rootDirOffset, size: g.rootDirSize }] : this.chain(g.rootCluster).map((c) => ({ offset: this.clusterOffset(c), size: g.clusterSize }));
    return regions.flatMap((r) => Array.from({ length: r.size / ENTRY }, (_, i) => r.offset + i * ENTRY));
  }

  private async readSlots(slots: number[]): Promise<Buffer> {
    // Root directory regions are contiguous per cluster; read each slot's bytes in order.
    const g = this.geometry;
    const regionSize = g.type === 'FAT16' ? g.rootDirSize : g.clusterSize;
    const buffers: Buffer[] = [];
    for (let i = 0; i < slots.length; i += regionSize / ENTRY) buffers.push(await this.io.read(slots[i]!, regionSize));
    return Buffer.concat(buffers);
  }

  private async rootEntries(): Promise<DirEntry[]> {
    const slots = this.rootSlots();
    const data = await this.readSlots(slots);
    const entries: DirEntry[] = [];
    let lfnParts: string[] = [];
    let lfnSlots: number[] = [];
    for (let i = 0; i < slots.length; i++) {
      const raw = data.subarray(i * ENTRY, (i + 1) * ENTRY);
      if (raw[0] === 0x00) break;
      if (raw[0] === 0xe5) {
        lfnParts = [];
        lfnSlots = [];
        continue;
      }
      const attr = raw[11]!;
      if (attr === ATTR_LFN) {
        if (raw[0]! & 0x40) {
          lfnParts = [];
          lfnSlots = [];
        }
        lfnParts.unshift(lfnChars(raw));
        lfnSlots.push(slots[i]!);
        continue;
      }
      if (!(attr & ATTR_VOLUME)) {
        const shortName = decodeShortName(raw);
        const longName = lfnParts.join('');
        entries.push({
          name: longName && lfnSlots.length > 0 ? longName : shortName,
          shortName,
          slots: [...lfnSlots, slots[i]!],
          firstCluster: (raw.readUInt16LE(20) << 16) | raw.readUInt16LE(26),
          size: raw.readUInt32LE(28),
          isDirectory: Boolean(attr & ATTR_DIRECTORY),
        });
      }
      lfnParts = [];
      lfnSlots = [];
    }
    return entries;
  }

  /** `count` consecutive free slots in the root directory, growing it on FAT32 if needed. */
  private async freeSlots(count: number): Promise<number[]> {
    const slots = this.rootSlots();
    const data = await this.readSlots(slots);
    let run: number[] = [];
    for (let i = 0; i < slots.length; i++) {
      const first = data[i * ENTRY]!;
      if (first === 0x00 || first === 0xe5) {
        run.push(slots[i]!);
        if (run.length === count) return run;
      } else run = [];
    }
    if (this.geometry.type === 'FAT16') throw new FatError('The boot partition root directory is full.');
    const last = this.chain(this.geometry.rootCluster).at(-1)!;
    const [added] = this.allocate(1);
    this.setEntry(last, added!);
    await this.io.write(this.clusterOffset(added!), Buffer.alloc(this.geometry.clusterSize));
    return this.freeSlots(count);
  }

  private chain(first: number): number[] {
    const clusters: number[] = [];
    let cluster = first;
    while (cluster >= 2 && cluster < this.eocMin()) {
      if (clusters.length > this.geometry.clusterCount) throw new FatError('The boot partition has a looping cluster chain; run fsck.fat on it.');
      clusters.push(cluster);
      cluster = this.entry(cluster);
    }
    return clusters;
  }

  private allocate(count: number): number[] {
    const found: number[] = [];
    for (let c = 2; c < this.geometry.clusterCount + 2 && found.length < count; c++) {
      if (this.entry(c) === 0) found.push(c);
    }
    if (found.length < count) throw new FatError('The boot partition is full.', { hint: 'Use an image with a larger boot partition.' });
    found.forEach((c, i) => this.setEntry(c, found[i + 1] ?? this.eoc()));
    return found;
  }

  private freeChain(first: number): void {
    for (const c of this.chain(first)) this.setEntry(c, 0);
  }

  private entry(cluster: number): number {
    return this.geometry.type === 'FAT32' ? this.fat.readUInt32LE(cluster * 4) & 0x0fffffff : this.fat.readUInt16LE(cluster * 2);
  }

  private setEntry(cluster: number, value: number): void {
    if (this.geometry.type === 'FAT32') {
      // The top 4 bits are reserved and must be preserved.
      const reserved = this.fat.readUInt32LE(cluster * 4) & 0xf0000000;
      this.fat.writeUInt32LE((reserved | (value & 0x0fffffff)) >>> 0, cluster * 4);
    } else this.fat.writeUInt16LE(value, cluster * 2);
  }

  private eoc(): number {
    return this.geometry.type === 'FAT32' ? 0x0fffffff : 0xffff;
  }

  private eocMin(): number {
    return this.geometry.type === 'FAT32' ? 0x0ffffff8 : 0xfff8;
  }

  private clusterOffset(cluster: number): number {
    return this.geometry.dataOffset + (cluster - 2) * this.geometry.clusterSize;
  }

  private async flushFat(): Promise<void> {
    const g = this.geometry;
    for (let i = 0; i < g.numFats; i++) await this.io.write(g.fatOffset + i * g.fatSize, this.fat);
    if (g.type === 'FAT32') await this.updateFsInfo();
  }

  /** Keeps FAT32's FSInfo free-cluster count and next-free hint true, as fsck.fat expects. */
  private async updateFsInfo(): Promise<void> {
    const boot = await this.io.read(0, 512);
    const sector = boot.readUInt16LE(48);
    if (sector === 0 || sector === 0xffff) return;
    const at = sector * this.geometry.bytesPerSector;
    const info = await this.io.read(at, 512);
    if (info.readUInt32LE(0) !== 0x41615252) return;
    let free = 0;
    let next = 0xffffffff;
    for (let c = 2; c < this.geometry.clusterCount + 2; c++) {
      if (this.entry(c) !== 0) continue;
      free++;
      if (next === 0xffffffff) next = c;
    }
    info.writeUInt32LE(free, 488);
    info.writeUInt32LE(next, 492);
    await this.io.write(at, info);
  }
}

function parseBootSector(boot: Buffer): Geometry {
  const bytesPerSector = boot.readUInt16LE(11);
  const sectorsPerCluster = boot[13]!;
  const reserved = boot.readUInt16LE(14);
  const numFats = boot[16]!;
  const rootEntryCount = boot.readUInt16LE(17);
  const totalSectors = boot.readUInt16LE(19) || boot.readUInt32LE(32);
  const fatSectors = boot.readUInt16LE(22) || boot.readUInt32LE(36);
  const valid = boot.readUInt16LE(510) === 0xaa55 && [512, 1024, 2048, 4096].includes(bytesPerSector) && sectorsPerCluster > 0 && (sectorsPerCluster & (sectorsPerCluster - 1)) === 0 && numFats > 0 && fatSectors > 0;
  if (!valid) throw new FatError('The first partition does not hold a FAT filesystem.', { hint: 'piswarm personalises images whose first partition is the FAT boot partition, as on Raspberry Pi images.' });
  const rootDirSectors = Math.ceil((rootEntryCount * ENTRY) / bytesPerSector);
  const dataSector = reserved + numFats * fatSectors + rootDirSectors;
  const clusterCount = Math.floor((totalSectors - dataSector) / sectorsPerCluster);
  if (clusterCount < 4085) throw new FatError('The boot partition is FAT12, which piswarm does not write.', { hint: 'Raspberry Pi images use FAT16 or FAT32.' });
  const type = clusterCount < 65525 ? 'FAT16' : 'FAT32';
  return {
    type,
    bytesPerSector,
    clusterSize: sectorsPerCluster * bytesPerSector,
    fatOffset: reserved * bytesPerSector,
    fatSize: fatSectors * bytesPerSector,
    numFats,
    rootDirOffset: (reserved + numFats * fatSectors) * bytesPerSector,
    rootDirSize: rootDirSectors * bytesPerSector,
    rootCluster: type === 'FAT32' ? boot.readUInt32LE(44) : 0,
    dataOffset: dataSector * bytesPerSector,
    clusterCount,
  };
}

function lfnChars(raw: Buffer): string {
  const units = [...range(1, 10), ...range(14, 25), ...range(28, 31)].filter((_, i) => i % 2 === 0).map((o) => raw.readUInt16LE(o));
  const end = units.findIndex((u) => u === 0x0000 || u === 0xffff);
  return String.fromCharCode(...(end === -1 ? units : units.slice(0, end)));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function decodeShortName(raw: Buffer): string {
  const base = raw.toString('latin1', 0, 8).trimEnd();
  const ext = raw.toString('latin1', 8, 11).trimEnd();
  // NT flags: Windows and mkfs/mtools mark all-lower-case 8.3 names this way instead of using LFN.
  const lowerBase = raw[12]! & 0x08 ? base.toLowerCase() : base;
  const lowerExt = raw[12]! & 0x10 ? ext.toLowerCase() : ext;
  return lowerExt ? `${lowerBase}.${lowerExt}` : lowerBase;
}

const SHORT_INVALID = /[^A-Z0-9!#$%&'()@^_`{}~-]/g;

function validateLongName(name: string): void {
  if (!name || name.length > 255 || /[\\/:*?"<>|\x00-\x1f]/.test(name) || name === '.' || name === '..') {
    throw new FatError(`"${name}" is not a valid file name on a FAT boot partition.`);
  }
}

/** A Windows-style 8.3 alias ("USER-D~1") that no other entry in the directory uses. */
function uniqueShortName(name: string, taken: Set<string>): string {
  const dot = name.lastIndexOf('.');
  const base = (dot > 0 ? name.slice(0, dot) : name).toUpperCase().replace(SHORT_INVALID, '_');
  const ext = (dot > 0 ? name.slice(dot + 1) : '').toUpperCase().replace(SHORT_INVALID, '_').slice(0, 3);
  const upperTaken = new Set([...taken].map((t) => t.toUpperCase()));
  for (let n = 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const candidate = `${base.slice(0, 8 - tail.length)}${tail}${ext ? `.${ext}` : ''}`;
    if (!upperTaken.has(candidate)) return candidate;
  }
  throw new FatError('No free short name left in the boot partition root directory.');
}

function shortNameBytes(shortName: string): Buffer {
  const [base, ext = ''] = shortName.split('.');
  return Buffer.from(base!.padEnd(8, ' ') + ext.padEnd(3, ' '), 'latin1');
}

function lfnChecksum(short: Buffer): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[i]!) & 0xff;
  return sum;
}

/** LFN entries (last part first, as on disk) followed by the short entry. */
function buildEntries(name: string, shortName: string, firstCluster: number, size: number): Buffer {
  const short = Buffer.alloc(ENTRY);
  shortNameBytes(shortName).copy(short, 0);
  short[11] = ATTR_ARCHIVE;
  setCluster(short, firstCluster);
  short.writeUInt32LE(size, 28);
  stampTime(short, true);
  const checksum = lfnChecksum(short);
  const units = Array.from({ length: name.length }, (_, i) => name.charCodeAt(i));
  const parts = Math.ceil(units.length / 13);
  const lfns: Buffer[] = [];
  for (let p = parts - 1; p >= 0; p--) {
    const entry = Buffer.alloc(ENTRY);
    entry[0] = (p + 1) | (p === parts - 1 ? 0x40 : 0);
    entry[11] = ATTR_LFN;
    entry[13] = checksum;
    const chars = units.slice(p * 13, p * 13 + 13);
    const padded = [...chars, ...(chars.length < 13 ? [0x0000] : []), ...Array(13).fill(0xffff)].slice(0, 13);
    const offsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
    offsets.forEach((o, i) => entry.writeUInt16LE(padded[i]!, o));
    lfns.push(entry);
  }
  return Buffer.concat([...lfns, short]);
}

function setCluster(entry: Buffer, cluster: number): void {
  entry.writeUInt16LE(cluster >>> 16, 20);
  entry.writeUInt16LE(cluster & 0xffff, 26);
}

/** FAT timestamps: local date and time in 2-second steps. */
function stampTime(entry: Buffer, created = false): void {
  const now = new Date();
  const time = (now.getHours() << 11) | (now.getMinutes() << 5) | Math.floor(now.getSeconds() / 2);
  const date = ((now.getFullYear() - 1980) << 9) | ((now.getMonth() + 1) << 5) | now.getDate();
  entry.writeUInt16LE(time, 22);
  entry.writeUInt16LE(date, 24);
  entry.writeUInt16LE(date, 18);
  if (created) {
    entry.writeUInt16LE(time, 14);
    entry.writeUInt16LE(date, 16);
  }
}
