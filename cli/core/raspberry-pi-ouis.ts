/**
 * MAC address blocks assigned to Raspberry Pi, the one list piswarm recognises Pis by.
 *
 * Source: the IEEE Registration Authority's public listings, searched for "Raspberry Pi":
 *   MA-L (24-bit) https://standards-oui.ieee.org/oui/oui.csv
 *   MA-M (28-bit) https://standards-oui.ieee.org/oui28/mam.csv
 *   MA-S (36-bit) https://standards-oui.ieee.org/oui36/oui36.csv
 * as of 2026. To update: add the new blocks here, with their length in bits.
 */
export const RASPBERRY_PI_OUIS: ReadonlyArray<{ prefix: string; bits: 24 | 28 | 36; organisation: string }> = [
  { prefix: 'B8:27:EB', bits: 24, organisation: 'Raspberry Pi Foundation' },
  { prefix: 'DC:A6:32', bits: 24, organisation: 'Raspberry Pi Trading Ltd' },
  { prefix: 'E4:5F:01', bits: 24, organisation: 'Raspberry Pi Trading Ltd' },
  { prefix: '28:CD:C1', bits: 24, organisation: 'Raspberry Pi Trading Ltd' },
  { prefix: 'D8:3A:DD', bits: 24, organisation: 'Raspberry Pi Trading Ltd' },
  { prefix: '2C:CF:67', bits: 24, organisation: 'Raspberry Pi (Trading) Ltd' },
  { prefix: '88:A2:9E', bits: 24, organisation: 'Raspberry Pi (Trading) Ltd' },
  { prefix: '98:FE:54', bits: 24, organisation: 'Raspberry Pi (Trading) Ltd' },
  { prefix: 'F0:40:AF:9', bits: 28, organisation: 'Raspberry Pi (Trading) Ltd' },
  { prefix: '8C:1F:64:34:A', bits: 36, organisation: 'Raspberry Pi (Trading) Ltd' },
];
