import { RASPBERRY_PI_OUIS } from './raspberry-pi-ouis.js';

/** "B8-27-EB-12-34-56" or "b827.eb12.3456" → "b8:27:eb:12:34:56"; undefined when it is not a MAC. */
export function normaliseMac(text: string): string | undefined {
  const hex = text.toLowerCase().replace(/[:.-]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

const PI_BLOCKS = RASPBERRY_PI_OUIS.map((block) => ({
  hex: block.prefix.toLowerCase().replace(/:/g, ''),
  organisation: block.organisation,
}));

/**
 * The Raspberry Pi organisation a MAC address was assigned to, or undefined. Blocks are 24, 28 or
 * 36 bits long, so the match is on hex digits (6, 7 or 9), not whole octets.
 */
export function raspberryPiVendor(mac: string): string | undefined {
  const hex = normaliseMac(mac)?.replace(/:/g, '');
  if (!hex) return undefined;
  return PI_BLOCKS.find((block) => hex.startsWith(block.hex))?.organisation;
}
