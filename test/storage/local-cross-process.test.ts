// LocalObjectStore.putIfAbsent across processes: child processes race on the same Delta-style commit
// keys; each key must be created by exactly one process with intact content and no temp files left.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../storage/local.js';
import { racerKey, racerPayload } from './fixtures/racer-payload.js';

const here = dirname(fileURLToPath(import.meta.url));
const racerScript = join(here, 'fixtures', 'put-if-absent-racer.ts');
const repoRoot = join(here, '..', '..');

interface Racer {
  id: string;
  child: ChildProcessWithoutNullStreams;
  lines: AsyncIterator<string>;
  stderr: string[];
}

function startRacer(rootDir: string, id: string, count: number, inFlight: number): Racer {
  const args = ['--import', 'tsx', racerScript, rootDir, id, String(count), String(inFlight)];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { id, child, lines, stderr };
}

async function nextLine(racer: Racer): Promise<string> {
  const next = await racer.lines.next();
  if (next.done) throw new Error(`racer ${racer.id} exited early: ${racer.stderr.join('')}`);
  return next.value;
}

describe('LocalObjectStore putIfAbsent across processes', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lakestream-xproc-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each([
    { writers: 4, count: 50, inFlight: 1 },
    { writers: 3, count: 40, inFlight: 4 },
  ])(
    'creates each of $count commit keys exactly once among $writers processes ($inFlight in flight each)',
    async ({ writers, count, inFlight }) => {
      const ids = Array.from({ length: writers }, (_, i) => `w${i}`);
      const racers = ids.map((id) => startRacer(root, id, count, inFlight));
      try {
        for (const racer of racers) expect(await nextLine(racer)).toBe('ready');
        for (const racer of racers) racer.child.stdin.write('go\n');
        const created = new Map<string, number[]>();
        for (const racer of racers) {
          const result = JSON.parse(await nextLine(racer)) as { created: number[] };
          created.set(racer.id, result.created);
        }
        const exits = await Promise.all(
          racers.map(
            (racer) =>
              new Promise<number | null>((resolve) => {
                if (racer.child.exitCode !== null) resolve(racer.child.exitCode);
                else racer.child.once('exit', (code) => resolve(code));
              }),
          ),
        );
        expect(exits).toEqual(ids.map(() => 0));

        // Every version has exactly one creator.
        const creatorOf = new Map<number, string>();
        for (const [id, versions] of created) {
          for (const version of versions) {
            expect(creatorOf.has(version), `version ${version} created twice`).toBe(false);
            creatorOf.set(version, id);
          }
        }
        expect([...creatorOf.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, v) => v));

        // Each object holds exactly its creator's payload.
        const store = new LocalObjectStore(root);
        for (const [version, id] of creatorOf) {
          expect(Buffer.from(await store.get(racerKey(version))).equals(Buffer.from(racerPayload(id, version)))).toBe(
            true,
          );
        }

        // Nothing but the commit files is left on disk (no temp files).
        const names = (await readdir(join(root, '_delta_log'))).sort();
        expect(names).toEqual(Array.from({ length: count }, (_, v) => racerKey(v).slice('_delta_log/'.length)));
        expect(await readdir(root)).toEqual(['_delta_log']);
      } finally {
        for (const racer of racers) if (racer.child.exitCode === null) racer.child.kill();
      }
    },
  );
});
