// String helpers the hot paths share: the ES2024 well-formedness checks (in Node ≥ 20, not in the
// ES2023 lib), and Buffer's native UTF-8 / Latin-1 writers called on any Uint8Array.

type WellFormed = { isWellFormed(): boolean; toWellFormed(): string };

/** Whether `text` has no lone UTF-16 surrogate (String.prototype.isWellFormed). */
export function isWellFormed(text: string): boolean {
  return (text as unknown as WellFormed).isWellFormed();
}

/** `text` with lone surrogates replaced by U+FFFD (String.prototype.toWellFormed). */
export function toWellFormed(text: string): string {
  return (text as unknown as WellFormed).toWellFormed();
}

/**
 * Buffer#utf8Write / #latin1Write(string, offset, maxLength) are what Buffer#write dispatches to,
 * minus its argument parsing, and they take any Uint8Array. Every Node release has them; should one
 * not, Buffer#write is used on a Buffer view.
 */
interface NativeWrites {
  utf8Write(s: string, offset: number, maxLength: number): number;
  latin1Write(s: string, offset: number, maxLength: number): number;
}
const NATIVE = Buffer.prototype as unknown as Partial<NativeWrites>;
const HAS_UTF8_WRITE = typeof NATIVE.utf8Write === 'function';
const HAS_LATIN1_WRITE = typeof NATIVE.latin1Write === 'function';

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** UTF-8-encodes `s` into `buf` at `pos` (the caller ensures room: 3 bytes per unit); bytes written. */
export function writeUtf8(buf: Uint8Array, s: string, pos: number): number {
  return HAS_UTF8_WRITE ? NATIVE.utf8Write!.call(buf, s, pos, buf.length - pos) : asBuffer(buf).write(s, pos, 'utf8');
}

/** Writes the Latin-1 bytes of `s` (the caller checked it is ASCII) into `buf` at `pos`; bytes written. */
export function writeLatin1(buf: Uint8Array, s: string, pos: number): number {
  return HAS_LATIN1_WRITE
    ? NATIVE.latin1Write!.call(buf, s, pos, buf.length - pos)
    : asBuffer(buf).write(s, pos, 'latin1');
}
