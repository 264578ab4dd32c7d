import { mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStateReader, nowNs, parseStampTime, recheckAll, statesOf, validStamp, writeStamp } from '../../build/file-states.mjs';

const NS_PER_S = 1_000_000_000n;

describe('file states (build/file-states.mjs)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-states-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Writes `content` and sets the file's modification time `ageS` seconds in the past. */
  const fileAged = async (name: string, content: string, ageS: number): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    const when = new Date(Date.now() - ageS * 1000);
    await utimes(path, when, when);
    return path;
  };

  it('trusts size and time of a file that was old when stamped, without reading it', async () => {
    const path = await fileAged('old.txt', 'aaaa', 60);
    const stamped = (await new FileStateReader().state(path))!;
    const stampedAtNs = nowNs();
    // Same size, same time, other bytes: only reading could tell, and a trusted file is not read (as git's index).
    const { mtime } = await stat(path);
    await writeFile(path, 'bbbb');
    await utimes(path, mtime, mtime);
    expect(await new FileStateReader().recheck(path, stamped, stampedAtNs)).toEqual({ state: stamped, read: false });
  });

  it('compares a racy file by content: same size and time, changed within the clock tick it was stamped in', async () => {
    const path = await fileAged('racy.txt', 'aaaa', 0);
    const stamped = (await new FileStateReader().state(path))!;
    const stampedAtNs = BigInt(stamped.mtimeNs) + NS_PER_S;
    const { mtime } = await stat(path);
    await writeFile(path, 'bbbb');
    await utimes(path, mtime, mtime);
    expect(await new FileStateReader().recheck(path, stamped, stampedAtNs)).toBeUndefined();
    // Unchanged content is confirmed by reading it.
    await writeFile(path, 'aaaa');
    await utimes(path, mtime, mtime);
    expect(await new FileStateReader().recheck(path, stamped, stampedAtNs)).toMatchObject({
      read: true,
      state: { sha256: stamped.sha256 },
    });
  });

  it('sees a changed size or time, and a missing file', async () => {
    const path = await fileAged('edited.txt', 'aaaa', 60);
    const stamped = (await new FileStateReader().state(path))!;
    const stampedAtNs = nowNs();
    await writeFile(path, 'aaaaa');
    expect(await new FileStateReader().recheck(path, stamped, stampedAtNs)).toBeUndefined();
    await fileAged('edited.txt', 'bbbb', 30);
    expect(await new FileStateReader().recheck(path, stamped, stampedAtNs)).toBeUndefined();
    // Touched, content unchanged: confirmed by content, with the new time to trust next time.
    const touched = await fileAged('edited.txt', 'aaaa', 30);
    const check = await new FileStateReader().recheck(touched, stamped, stampedAtNs);
    expect(check?.read).toBe(true);
    expect(check?.state.mtimeNs).not.toBe(stamped.mtimeNs);
    await rm(path);
    expect(await new FileStateReader().recheck(path, stamped, stampedAtNs)).toBeUndefined();
  });

  it('has no state for a missing file, a directory, a path through a file, or one it cannot resolve', async () => {
    const file = await fileAged('plain.txt', 'x', 60);
    // Two links pointing at each other: stat fails with ELOOP, which is no "missing file" to the system.
    await symlink(join(dir, 'loop-b'), join(dir, 'loop-a'));
    await symlink(join(dir, 'loop-a'), join(dir, 'loop-b'));
    const reader = new FileStateReader();
    for (const path of [join(dir, 'absent.txt'), dir, join(file, 'inside.txt'), join(dir, 'loop-a')]) {
      expect(await reader.stat(path), path).toBeUndefined();
      expect(await reader.state(path), path).toBeUndefined();
    }
    expect(await reader.stat(file)).toMatchObject({ size: 1 });
  });

  it('rechecks a set of files: all unchanged, or undefined at the first change', async () => {
    await fileAged('one.txt', '1', 60);
    await fileAged('two.txt', '22', 60);
    const stamped = (await statesOf(new FileStateReader(), dir, ['one.txt', 'two.txt']))!;
    const stampedAtNs = nowNs();
    expect(await recheckAll(new FileStateReader(), dir, stamped, stampedAtNs)).toEqual({ states: stamped, read: false });
    await fileAged('two.txt', '33', 10);
    expect(await recheckAll(new FileStateReader(), dir, stamped, stampedAtNs)).toBeUndefined();
    expect(await statesOf(new FileStateReader(), dir, ['one.txt', 'missing.txt'])).toBeUndefined();
  });

  it('reads each path once per reader', async () => {
    const path = await fileAged('once.txt', 'x', 60);
    const reader = new FileStateReader();
    const first = reader.hash(path);
    expect(reader.hash(path)).toBe(first);
    const hash = await first;
    await writeFile(path, 'y');
    expect(await reader.hash(path)).toBe(hash);
    expect(await new FileStateReader().hash(path)).not.toBe(hash);
  });

  it('parses only a stamp time it wrote', () => {
    expect(parseStampTime('1764480000000000000')).toBe(1764480000000000000n);
    for (const value of ['', '-1', '1e9', '12.5', 12, null, undefined, ' 1']) expect(parseStampTime(value)).toBeUndefined();
  });

  describe('stamps', () => {
    let root: string;
    let out: string;
    let stampPath: string;
    const check = (accept = true) => ({ accept: () => accept, inputsRoot: root, outputsRoot: () => out });

    beforeAll(async () => {
      root = join(dir, 'stamp-src');
      out = join(dir, 'stamp-out');
      await mkdir(root, { recursive: true });
      await mkdir(out, { recursive: true });
      stampPath = join(out, 'stamp.json');
    });

    const stampFresh = async () => {
      await writeFile(join(root, 'in.ts'), 'input');
      await writeFile(join(out, 'out.js'), 'output');
      return writeStamp(stampPath, { fields: { format: 7 }, inputsRoot: root, inputs: ['in.ts'], outputsRoot: out, outputs: ['out.js'] });
    };

    it('answers a stamp whose fields the caller accepts and whose files are unchanged', async () => {
      // Written: it answers the outputs' states, as stamped.
      expect(await stampFresh()).toEqual({ 'out.js': expect.objectContaining({ size: 6, sha256: expect.any(String) }) });
      const stamp = await validStamp(stampPath, check());
      expect(stamp).toMatchObject({ format: 7, inputs: { 'in.ts': { size: 5 } }, outputs: { 'out.js': { size: 6 } } });
      expect(await validStamp(stampPath, check(false))).toBeUndefined();
    });

    it('refreshes the stamp after confirming young files by content, so the next check can trust them', async () => {
      await stampFresh();
      const before = JSON.parse(await readFile(stampPath, 'utf8')) as { stampedAtNs: string };
      // Written within moments of the stamp: racy, so read, confirmed, and the stamp's time moves to this check.
      expect(await validStamp(stampPath, check())).toBeDefined();
      const after = JSON.parse(await readFile(stampPath, 'utf8')) as { stampedAtNs: string };
      expect(BigInt(after.stampedAtNs)).toBeGreaterThanOrEqual(BigInt(before.stampedAtNs));
    });

    it('refuses a changed input, a missing output, an unreadable stamp, and leaves none for a build whose file is gone', async () => {
      await stampFresh();
      await writeFile(join(root, 'in.ts'), 'INPUT');
      expect(await validStamp(stampPath, check())).toBeUndefined();
      await stampFresh();
      await rm(join(out, 'out.js'));
      expect(await validStamp(stampPath, check())).toBeUndefined();
      await stampFresh();
      await writeFile(stampPath, '{ "stampedAtNs": "12", "inputs": {}, "outputs": { "out.js": { "sha256": 1 } } }');
      expect(await validStamp(stampPath, check())).toBeUndefined();
      await writeFile(stampPath, 'not json');
      expect(await validStamp(stampPath, check())).toBeUndefined();

      await stampFresh();
      expect(
        await writeStamp(stampPath, { fields: {}, inputsRoot: root, inputs: ['missing.ts'], outputsRoot: out, outputs: ['out.js'] }),
      ).toBeUndefined();
      await expect(readFile(stampPath)).rejects.toThrow(/ENOENT/);
    });
  });
});
