/** local/streams/dead-letters.ts: the in-memory store stays bounded; the files keep everything. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeadLetterStore, MAX_DEAD_LETTERS_IN_MEMORY, type DeadLetter } from '../../local/streams/dead-letters.js';

const letter = (n: number): DeadLetter => ({ functionName: 'stream', n }) as unknown as DeadLetter;

describe('DeadLetterStore', () => {
  it('keeps the newest entries in memory, counts what it dropped, and writes every entry to its file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'dlq-'));
    try {
      const store = new DeadLetterStore(directory);
      const total = MAX_DEAD_LETTERS_IN_MEMORY + 5;
      for (let n = 0; n < total; n++) store.add(letter(n));
      expect(store.list()).toHaveLength(MAX_DEAD_LETTERS_IN_MEMORY);
      expect((store.list()[0] as unknown as { n: number }).n).toBe(5);
      expect(store.dropped).toBe(5);
      await store.flush();
      expect((await readFile(join(directory, 'stream.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(total);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
