import { describe, expect, it } from 'vitest';
import { SeenKeys } from './seen-keys.ts';

describe('SeenKeys', () => {
  it('remembers the first line a key was added on', () => {
    const seen = new SeenKeys();
    expect(seen.lineOf('phone:+33612345678')).toBe(0);
    seen.add('phone:+33612345678', 2);
    seen.add('phone:+33612345678', 9);
    expect(seen.lineOf('phone:+33612345678')).toBe(2);
    expect(seen.lineOf('email:+33612345678')).toBe(0);
    expect(seen.size).toBe(1);
  });

  it('keeps every key and its line while it grows', () => {
    const seen = new SeenKeys();
    const count = 50_000;
    for (let i = 0; i < count; i++) seen.add(`id:s${i}`, i + 2);
    expect(seen.size).toBe(count);
    for (let i = 0; i < count; i += 997) expect(seen.lineOf(`id:s${i}`)).toBe(i + 2);
    expect(seen.lineOf(`id:s${count}`)).toBe(0);
    expect(seen.lineOf('id:S1')).toBe(0);
  });

  it("claims a row's keys all together, or none when one was seen before", () => {
    const seen = new SeenKeys();
    expect(seen.claim(['id:a', 'phone:+33612345678', undefined], 2)).toEqual([0, 0, 0]);
    expect(seen.claim(['id:b', 'phone:+33612345678', 'email:b@example.org'], 3)).toEqual([0, 2, 0]);
    expect(seen.lineOf('id:b')).toBe(0);
    expect(seen.lineOf('email:b@example.org')).toBe(0);
    expect(seen.claim(['id:c', undefined, 'email:b@example.org'], 4)).toEqual([0, 0, 0]);
    expect(seen.lineOf('email:b@example.org')).toBe(4);
    expect(seen.size).toBe(4);
  });

  it('tells 400,000 keys apart, each with its own line, across every shard growing', () => {
    const seen = new SeenKeys();
    const rows = 200_000;
    let refused = 0;
    for (let i = 0; i < rows; i++)
      if (seen.claim([`id:s${i}`, `phone:+336${i}`], i + 2).some((l) => l !== 0)) refused++;
    expect(refused).toBe(0);
    expect(seen.size).toBe(2 * rows);
    const wrong: string[] = [];
    for (let i = 0; i < rows; i += 7) {
      if (seen.lineOf(`id:s${i}`) !== i + 2) wrong.push(`id:s${i}`);
      if (seen.lineOf(`phone:+336${i}`) !== i + 2) wrong.push(`phone:+336${i}`);
      if (seen.lineOf(`email:s${i}`) !== 0) wrong.push(`email:s${i}`);
    }
    expect(wrong).toEqual([]);
    expect(seen.claim([`id:s${rows}`, `phone:+336${rows - 1}`], rows + 2)).toEqual([0, rows + 1]);
  });

  it('refuses line 0, which marks an empty slot', () => {
    expect(() => new SeenKeys().add('id:a', 0)).toThrow(RangeError);
  });
});
