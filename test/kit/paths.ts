// Where the test environment lives: the project cache that test/env/*.sh fill, and the tools in it.

import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CACHE_DIR = process.env.LAKESTREAM_CACHE ?? join(PROJECT_ROOT, '.cache');
export const VENV_PYTHON = join(CACHE_DIR, 'venv', 'bin', 'python');
export const IVY_DIR = join(CACHE_DIR, 'ivy2');
