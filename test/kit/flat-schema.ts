// A flat schema of every primitive type the columnar path holds (string, long, double, boolean,
// integer, timestamp, date), for tests of parseJson's scan and the columnar engine.
import type { PrimitiveType, StructType } from '../../sinks/schema.js';

export const field = (name: string, type: PrimitiveType) => ({ name, type, nullable: true, metadata: {} });

export const FLAT_SCHEMA: StructType = {
  type: 'struct',
  fields: [
    field('id', 'string'),
    field('n', 'long'),
    field('score', 'double'),
    field('ok', 'boolean'),
    field('small', 'integer'),
    field('ts', 'timestamp'),
    field('day', 'date'),
  ],
};
