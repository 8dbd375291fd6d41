// LevelDbStateStoreProvider: the shared StateStore contract on disk, the one-process-per-folder lock,
// and kill -9 of a real child process writing batches: reopened state equals the last committed version.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelDbStateStoreProvider } from '../../state/leveldb-store.js';
import { stateStoreContract } from '../contracts/state-store.js';
import { BATCH_FINGERPRINT, expectedStateAt, WRITER_OPERATOR } from './fixtures/state-batches.js';

const here = dirname(fileURLToPath(import.meta.url));
const writerScript = join(here, 'fixtures', 'state-writer.ts');
const repoRoot = join(here, '..', '..');

stateStoreContract('LevelDbStateStoreProvider', async () => {
  const rootDir = await mkdtemp(join(tmpdir(), 'lakestream-state-'));
  return {
    provider: (options) => new LevelDbStateStoreProvider({ ...options, rootDir, sync: false }),
    cleanup: () => rm(rootDir, { recursive: true, force: true }),
  };
});

stateStoreContract('LevelDbStateStoreProvider (backend reads, maxCachedRows 0)', async () => {
  const rootDir = await mkdtemp(join(tmpdir(), 'lakestream-state-'));
  return {
    provider: (options) => new LevelDbStateStoreProvider({ maxCachedRows: 0, ...options, rootDir, sync: false }),
    cleanup: () => rm(rootDir, { recursive: true, force: true }),
  };
});

async function dumpAll(provider: LevelDbStateStoreProvider, version: number): Promise<Map<string, string>> {
  const store = await provider.open(WRITER_OPERATOR, version, BATCH_FINGERPRINT);
  const out = new Map<string, string>();
  const dec = new TextDecoder();
  for await (const entry of store.scan('')) out.set(dec.decode(entry.key), dec.decode(entry.value));
  store.abort();
  return out;
}

describe('LevelDbStateStoreProvider on disk', () => {
  let rootDir: string;
  beforeEach(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'lakestream-state-'));
  });
  afterEach(async () => {
    await rm(rootDir, { recursive: true, force: true });
  });

  it('keeps one LevelDB folder per operator', async () => {
    const provider = new LevelDbStateStoreProvider({ rootDir });
    for (const op of ['dedup', 'window.count']) {
      const store = await provider.open(op, -1, {});
      store.put('k', Uint8Array.of(1));
      await store.commit(0);
    }
    await provider.close();
    expect((await readdir(rootDir)).sort()).toEqual(['dedup', 'window.count']);
  });

  it('refuses a second process-level open of the same folder with STATE_LOCKED', async () => {
    const first = new LevelDbStateStoreProvider({ rootDir });
    const second = new LevelDbStateStoreProvider({ rootDir });
    (await first.open('dedup', -1, {})).abort();
    await expect(second.open('dedup', -1, {})).rejects.toMatchObject({ code: 'STATE_LOCKED', retryable: false });
    await first.close();
    expect(await second.latestVersion('dedup')).toBe(-1);
    await second.close();
  });

  it('after kill -9 of a writer, reopened state equals the last committed version exactly', async () => {
    const runs = [25, 40];
    let lastSeen = -1;
    for (const killAfter of runs) {
      const child = spawn(process.execPath, ['--import', 'tsx', writerScript, rootDir], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stderr: string[] = [];
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      let seen = 0;
      let startedAt: number | undefined;
      for await (const line of createInterface({ input: child.stdout })) {
        const [word, value] = line.split(' ');
        if (word === 'start') startedAt = Number(value);
        if (word === 'committed') {
          lastSeen = Number(value);
          if (++seen >= killAfter) {
            child.kill('SIGKILL');
            break;
          }
        }
      }
      await exited;
      expect(seen, `writer output: ${stderr.join('')}`).toBe(killAfter);
      expect(startedAt, 'a restarted writer resumes after the last committed version').toBeDefined();
      const provider = new LevelDbStateStoreProvider({ rootDir });
      const latest = await provider.latestVersion(WRITER_OPERATOR);
      // Every reported commit is durable; the writer may have committed more (lines it printed that were
      // not read yet, or a commit it was making when killed), each wholly present or wholly absent.
      expect(latest, `last reported commit ${lastSeen}`).toBeGreaterThanOrEqual(lastSeen);
      expect(await dumpAll(provider, latest)).toEqual(expectedStateAt(latest));
      for (const older of [latest - 1, latest - 5])
        expect(await dumpAll(provider, older)).toEqual(expectedStateAt(older));
      await provider.close();
    }
  }, 120_000);
});
