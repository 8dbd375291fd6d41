// Decoding of commit files: newline-delimited JSON, one action per line (PROTOCOL.md "Delta Log Entries",
// "Actions"). Every line is validated against the action's required fields; an unparsable line, an
// unknown action or a missing/ill-typed field is LOG_CORRUPT naming the file and the 1-based line.
import type { Action } from './actions.js';
import { DeltaError } from './errors.js';

type Json = Record<string, unknown>;

/** Thrown inside the validators; turned into a DeltaError with file and line by parseCommitFile. */
class ShapeError extends Error {}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(parent: Json, key: string, where: string): Json {
  const v = parent[key];
  if (!isObject(v)) throw new ShapeError(`${where}.${key} must be an object`);
  return v;
}
function str(parent: Json, key: string, where: string): string {
  const v = parent[key];
  if (typeof v !== 'string') throw new ShapeError(`${where}.${key} must be a string`);
  return v;
}
function int(parent: Json, key: string, where: string): number {
  const v = parent[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ShapeError(`${where}.${key} must be an integer`);
  return v;
}
function bool(parent: Json, key: string, where: string): boolean {
  const v = parent[key];
  if (typeof v !== 'boolean') throw new ShapeError(`${where}.${key} must be a boolean`);
  return v;
}
function optional<T>(parent: Json, key: string, read: (p: Json, k: string, w: string) => T, where: string) {
  const v = parent[key];
  if (v === undefined || v === null) return;
  read(parent, key, where);
}
function stringArray(parent: Json, key: string, where: string): void {
  const v = parent[key];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new ShapeError(`${where}.${key} must be an array of strings`);
  }
}
function stringMap(parent: Json, key: string, where: string, nullable: boolean): void {
  const v = obj(parent, key, where);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' || (nullable && x === null)) continue;
    throw new ShapeError(`${where}.${key}.${k} must be a string${nullable ? ' or null' : ''}`);
  }
}

const VALIDATORS: Record<string, (body: Json) => void> = {
  protocol(p) {
    int(p, 'minReaderVersion', 'protocol');
    int(p, 'minWriterVersion', 'protocol');
    optional(p, 'readerFeatures', stringArray, 'protocol');
    optional(p, 'writerFeatures', stringArray, 'protocol');
  },
  metaData(m) {
    str(m, 'id', 'metaData');
    const format = obj(m, 'format', 'metaData');
    str(format, 'provider', 'metaData.format');
    optional(format, 'options', (p, k, w) => stringMap(p, k, w, true), 'metaData.format');
    str(m, 'schemaString', 'metaData');
    stringArray(m, 'partitionColumns', 'metaData');
    optional(m, 'configuration', (p, k, w) => stringMap(p, k, w, true), 'metaData');
    optional(m, 'createdTime', int, 'metaData');
  },
  add(a) {
    str(a, 'path', 'add');
    stringMap(a, 'partitionValues', 'add', true);
    int(a, 'size', 'add');
    int(a, 'modificationTime', 'add');
    bool(a, 'dataChange', 'add');
    optional(a, 'stats', str, 'add');
    optional(a, 'tags', (p, k, w) => stringMap(p, k, w, true), 'add');
    optional(a, 'deletionVector', obj, 'add');
  },
  remove(r) {
    str(r, 'path', 'remove');
    optional(r, 'deletionTimestamp', int, 'remove');
    bool(r, 'dataChange', 'remove');
    optional(r, 'partitionValues', (p, k, w) => stringMap(p, k, w, true), 'remove');
    optional(r, 'size', int, 'remove');
    optional(r, 'deletionVector', obj, 'remove');
  },
  txn(t) {
    str(t, 'appId', 'txn');
    int(t, 'version', 'txn');
    optional(t, 'lastUpdated', int, 'txn');
  },
  commitInfo() {},
  domainMetadata(d) {
    str(d, 'domain', 'domainMetadata');
    str(d, 'configuration', 'domainMetadata');
    bool(d, 'removed', 'domainMetadata');
  },
  cdc(c) {
    str(c, 'path', 'cdc');
  },
  checkpointMetadata(c) {
    int(c, 'version', 'checkpointMetadata');
  },
  sidecar(s) {
    str(s, 'path', 'sidecar');
  },
};

/** Fills defaults the protocol lets writers omit, so consumers see the shapes in actions.ts. */
function normalize(kind: string, body: Json): void {
  if (kind === 'metaData') {
    if (body.configuration === undefined || body.configuration === null) body.configuration = {};
    const format = body.format as Json;
    if (format.options === undefined || format.options === null) format.options = {};
  }
}

/**
 * Validates one decoded action object (`{ add: {...} }`), filling omitted optional maps. Throws a
 * plain Error describing the defect; callers attach the location.
 */
export function validateAction(value: unknown): Action {
  if (!isObject(value)) throw new ShapeError('a log line must be a JSON object');
  const keys = Object.keys(value);
  if (keys.length !== 1) throw new ShapeError(`a log line must hold exactly one action, found [${keys.join(', ')}]`);
  const kind = keys[0] as string;
  const validate = VALIDATORS[kind];
  if (!validate) throw new ShapeError(`unknown action "${kind}"`);
  const body = value[kind];
  if (!isObject(body)) throw new ShapeError(`${kind} must be an object`);
  validate(body);
  normalize(kind, body);
  return value as Action;
}

/**
 * Parses the text of one commit (or JSON v2 checkpoint) file into its actions, in file order.
 * Blank lines are skipped. `file` names the file in errors (context.file, context.line).
 */
export function parseActions(text: string, file: string): Action[] {
  const actions: Action[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw corrupt(file, i + 1, `invalid JSON (${(cause as Error).message})`, cause);
    }
    try {
      actions.push(validateAction(value));
    } catch (cause) {
      if (!(cause instanceof ShapeError)) throw cause;
      throw corrupt(file, i + 1, cause.message, cause);
    }
  }
  return actions;
}

/** Decodes UTF-8 bytes (strictly: invalid UTF-8 is LOG_CORRUPT) and parses them with parseActions. */
export function parseCommitFile(bytes: Uint8Array, file: string): Action[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new DeltaError(`log file ${file} is not valid UTF-8`, { code: 'LOG_CORRUPT', cause, context: { file } });
  }
  return parseActions(text, file);
}

function corrupt(file: string, line: number, reason: string, cause: unknown): DeltaError {
  return new DeltaError(`corrupt log file ${file}, line ${line}: ${reason}`, {
    code: 'LOG_CORRUPT',
    cause,
    context: { file, line },
  });
}
