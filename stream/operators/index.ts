// The operators of `readStream(source).pipe(...)`, one per file.

export { type AggregateOptions, aggregate, WINDOW_COLUMN } from './aggregate.js';
export { type AggregateFunction, avg, count, countDistinct, max, min, sum } from './aggregations.js';
export { dropDuplicates, dropDuplicatesWithinWatermark } from './drop-duplicates.js';
export { filter } from './filter.js';
export { type MapOptions, map } from './map.js';
export { type ParseJsonOptions, parseJson } from './parse-json.js';
export { select } from './select.js';
export { type TimeWindow, type WindowSpec, window } from './window.js';
export { withColumn } from './with-column.js';
export { type WithWatermarkOptions, withWatermark } from './with-watermark.js';
