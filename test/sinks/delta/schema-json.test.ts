// Unit tests of schemaString parsing: every type form, validation, and refusal of unsupported types.
import { describe, expect, it } from 'vitest';
import { DeltaError } from '../../../sinks/delta/errors.js';
import { parseSchema } from '../../../sinks/delta/schema-json.js';

const field = (name: string, type: unknown, extra: Record<string, unknown> = {}) => ({
  name,
  type,
  nullable: true,
  metadata: {},
  ...extra,
});
const schema = (...fields: unknown[]) => JSON.stringify({ type: 'struct', fields });

function code(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(DeltaError);
    return (error as DeltaError).code;
  }
}

describe('schema-json', () => {
  it('parses primitives, decimals and nested types', () => {
    const nested = {
      type: 'struct',
      fields: [field('x', { type: 'array', elementType: 'decimal(38,18)', containsNull: false })],
    };
    const map = { type: 'map', keyType: 'string', valueType: nested, valueContainsNull: true };
    const parsed = parseSchema(schema(field('a', 'long'), field('b', 'timestamp_ntz'), field('c', map)));
    expect(parsed).toEqual({
      type: 'struct',
      fields: [
        field('a', 'long'),
        field('b', 'timestamp_ntz'),
        field('c', {
          type: 'map',
          keyType: 'string',
          valueType: {
            type: 'struct',
            fields: [field('x', { type: 'array', elementType: 'decimal(38,18)', containsNull: false })],
          },
          valueContainsNull: true,
        }),
      ],
    });
  });

  it('defaults missing field metadata to {}', () => {
    const parsed = parseSchema(
      JSON.stringify({ type: 'struct', fields: [{ name: 'a', type: 'integer', nullable: false }] }),
    );
    expect(parsed.fields[0]).toEqual({ name: 'a', type: 'integer', nullable: false, metadata: {} });
  });

  it.each([
    ['not JSON', '{'],
    ['not a struct', JSON.stringify({ type: 'array' })],
    ['a field without nullable', JSON.stringify({ type: 'struct', fields: [{ name: 'a', type: 'long' }] })],
    ['names equal ignoring case', schema(field('a', 'long'), field('A', 'long'))],
    ['decimal precision above 38', schema(field('a', 'decimal(39,2)'))],
    ['an unknown container', schema(field('a', { type: 'set' }))],
  ])('refuses %s as LOG_CORRUPT', (_, text) => {
    expect(code(() => parseSchema(text))).toBe('LOG_CORRUPT');
  });

  it('refuses types it cannot represent as UNSUPPORTED_FEATURE', () => {
    expect(code(() => parseSchema(schema(field('v', 'variant'))))).toBe('UNSUPPORTED_FEATURE');
    expect(code(() => parseSchema(schema(field('v', 'void'))))).toBe('UNSUPPORTED_FEATURE');
  });
});
