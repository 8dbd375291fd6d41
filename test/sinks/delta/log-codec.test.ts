// Unit tests of commit-file decoding: valid actions, defaults, and LOG_CORRUPT naming file and line.
import { describe, expect, it } from 'vitest';
import { DeltaError } from '../../../sinks/delta/errors.js';
import { parseActions, parseCommitFile } from '../../../sinks/delta/log-codec.js';
import { add, commitInfo, metaData, ndjson, protocol, remove, txn } from './log-fixtures.js';

function corruptError(run: () => unknown): DeltaError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DeltaError);
    expect((error as DeltaError).code).toBe('LOG_CORRUPT');
    return error as DeltaError;
  }
  throw new Error('expected LOG_CORRUPT');
}

describe('log-codec', () => {
  it('parses every action kind in file order and skips blank lines', () => {
    const actions = [commitInfo(5), protocol(), metaData(), add('a'), remove('b'), txn('app', 3)];
    const text = `${ndjson(actions.slice(0, 3))}\n   \n${ndjson(actions.slice(3))}`;
    expect(parseActions(text, 'f.json')).toEqual(actions);
  });

  it('fills the maps the protocol lets old writers omit', () => {
    const line = JSON.stringify({
      metaData: { id: 'x', format: { provider: 'parquet' }, schemaString: '{}', partitionColumns: [] },
    });
    const [action] = parseActions(line, 'f.json');
    expect(action).toEqual({
      metaData: {
        id: 'x',
        format: { provider: 'parquet', options: {} },
        schemaString: '{}',
        partitionColumns: [],
        configuration: {},
      },
    });
  });

  it.each([
    ['invalid JSON', '{"add": {', /invalid JSON/],
    ['an unknown action', '{"frobnicate": {}}', /unknown action "frobnicate"/],
    ['two actions on one line', JSON.stringify({ ...add('a'), ...remove('a') }), /exactly one action/],
    [
      'an add without size',
      JSON.stringify({ add: { path: 'a', partitionValues: {}, modificationTime: 1, dataChange: true } }),
      /add\.size/,
    ],
    [
      'a non-string partition value',
      JSON.stringify(add('a', { partitionValues: { p: 1 as unknown as string } })),
      /partitionValues\.p/,
    ],
    ['a txn without version', '{"txn":{"appId":"a"}}', /txn\.version/],
    [
      'a metaData without schemaString',
      '{"metaData":{"id":"x","format":{"provider":"p"},"partitionColumns":[]}}',
      /schemaString/,
    ],
    [
      'a protocol with string versions',
      '{"protocol":{"minReaderVersion":"1","minWriterVersion":2}}',
      /minReaderVersion/,
    ],
    ['a JSON array', '[1,2]', /JSON object/],
  ])('refuses %s, naming the file and line', (_, badLine, reason) => {
    const text = `${ndjson([commitInfo(1)])}${badLine}\n${ndjson([add('z')])}`;
    const error = corruptError(() => parseActions(text, '_delta_log/00000000000000000007.json'));
    expect(error.message).toMatch(reason);
    expect(error.message).toContain('_delta_log/00000000000000000007.json, line 2');
    expect(error.context).toEqual({ file: '_delta_log/00000000000000000007.json', line: 2 });
  });

  it('refuses bytes that are not UTF-8', () => {
    const error = corruptError(() => parseCommitFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'x.json'));
    expect(error.context).toEqual({ file: 'x.json' });
  });
});
