// Checkpoint file framing: Spark's version header line, then canonical JSON, then a CRC-32 line, so a
// torn or bit-rotted file is detected. Layout of a file: "v1\n<json>\ncrc32:<8 hex>\n".

import { crc32 } from 'node:zlib';
import { CheckpointStateError } from '../../stream/errors.js';

export const FORMAT_VERSION = 1;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** JSON with object keys sorted recursively, so equal values have equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

function checksum(body: string): string {
  return crc32(body).toString(16).padStart(8, '0');
}

export function encodeCheckpointFile(value: unknown): Uint8Array {
  const body = `v${FORMAT_VERSION}\n${canonicalJson(value)}\n`;
  return enc.encode(`${body}crc32:${checksum(body)}\n`);
}

/** A decoded file, or why it is unreadable. */
export type DecodedFile = { kind: 'ok'; value: unknown; json: string } | { kind: 'corrupt'; reason: string };

/**
 * Decodes a checkpoint file. Damage (truncation, bad checksum, bad JSON) is an outcome; a file from a
 * newer format version throws CHECKPOINT_VERSION_UNSUPPORTED (upgrade lakestream, do not discard it).
 */
export function decodeCheckpointFile(bytes: Uint8Array, key: string): DecodedFile {
  let text: string;
  try {
    text = dec.decode(bytes);
  } catch {
    return { kind: 'corrupt', reason: 'not valid UTF-8' };
  }
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  const match = /^v(\d+)$/.exec(header);
  if (match === null) return { kind: 'corrupt', reason: `bad version header ${JSON.stringify(header.slice(0, 20))}` };
  const version = Number(match[1]);
  if (version > FORMAT_VERSION) {
    throw new CheckpointStateError(
      'CHECKPOINT_VERSION_UNSUPPORTED',
      `checkpoint file ${key} has format v${version}; this lakestream reads up to v${FORMAT_VERSION}`,
      { key, version },
    );
  }
  if (lines.length !== 4 || lines[3] !== '')
    return { kind: 'corrupt', reason: `expected 3 lines, got ${lines.length - 1}` };
  const json = lines[1]!;
  const expected = `crc32:${checksum(`${header}\n${json}\n`)}`;
  if (lines[2] !== expected) return { kind: 'corrupt', reason: `checksum mismatch (${lines[2]} != ${expected})` };
  try {
    return { kind: 'ok', value: JSON.parse(json), json };
  } catch {
    return { kind: 'corrupt', reason: 'checksum matches but JSON does not parse' };
  }
}
