/** Reads a PNG's header: the 8-byte signature, then the IHDR chunk with width and height (PNG spec §5.2, §11.2.2). */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngSize(bytes: Buffer): { width: number; height: number } {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG: the signature is missing');
  if (bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG: IHDR is not the first chunk');
  // The last chunk of every PNG is IEND; a cut upload lacks it.
  if (bytes.toString('latin1', bytes.length - 8, bytes.length - 4) !== 'IEND') throw new Error('not a whole PNG: IEND is missing');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
