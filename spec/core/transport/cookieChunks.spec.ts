import fc from 'fast-check';
import { beginsAsSet, chunkIndex, cutPoints, firstHead, firstHeadLength, joinChunks, newSetId } from '../../../lib/core/transport/cookieChunks.js';

// The chunked-cookie format, function by function; CookieTransport.chunks.spec.ts tests
// it through the transport, with real Set-Cookies.

describe('cookieChunks', () => {
  describe(beginsAsSet, () => {
    it.each([
      ['3~', true],
      ['12~x', true],
      ['0~x', true],
      ['~3', false],
      ['3', false],
      ['a3~', false],
      ['3a~', false],
      ['', false],
      ['eyJ2IjoxfQ', false],
    ])('%j: %s', (value, expected) => {
      expect(beginsAsSet(value)).toBe(expected);
    });
  });

  describe(chunkIndex, () => {
    it.each([
      ['s.1', 1],
      ['s.12', 12],
      ['s.0', undefined],
      ['s.01', undefined],
      ['s.', undefined],
      ['s', undefined],
      ['s.1a', undefined],
      ['t.1', undefined],
      ['ss.1', undefined],
      ['s.-1', undefined],
    ])('%s: %s', (cookieName, expected) => {
      expect(chunkIndex(cookieName, 's')).toBe(expected);
    });
  });

  describe(newSetId, () => {
    it('8 base64url characters, a new one each time', () => {
      const ids = new Set(Array.from({ length: 1000 }, () => newSetId()));
      expect(ids.size).toBe(1000);
      for (const id of ids) {
        expect(id).toMatch(/^[A-Za-z0-9_-]{8}$/);
      }
    });
  });

  describe(firstHead, () => {
    it('is as long as firstHeadLength says', () => {
      for (const [count, length] of [
        [1, 1],
        [9, 12_000],
        [10, 99_999],
      ] as const) {
        expect(firstHead(count, length, 'abcdefgh')).toHaveLength(firstHeadLength(String(count).length, length));
      }
    });
  });

  describe(cutPoints, () => {
    it('cuts an encoded text only between whole characters, each part within its room (property)', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }), fc.integer({ min: 12, max: 40 }), (text, room) => {
          const encoded = encodeURIComponent(text);
          const ends = cutPoints(encoded, () => room)!;
          expect(ends.at(-1)).toBe(encoded.length);
          let start = 0;
          const parts = ends.map((end) => {
            const part = encoded.slice(start, end);
            start = end;
            return part;
          });
          for (const part of parts) {
            expect(part.length).toBeGreaterThan(0);
            expect(part.length).toBeLessThanOrEqual(room);
          }
          // Each part decodes alone, and the parts decoded give the text back.
          expect(parts.map((part) => decodeURIComponent(part)).join('')).toBe(text);
        }),
        { numRuns: 500 },
      );
    });

    it('cuts a text of one-character units greedily, by its length alone', () => {
      expect(cutPoints(10, () => 4)).toEqual([4, 8, 10]);
      expect(cutPoints('abcdefghij', () => 4)).toEqual([4, 8, 10]);
    });

    it("lays out again when the count's digits take room from the first part", () => {
      // 10 parts need 2 digits: the first part loses one character of room.
      const room = (index: number, countDigits: number) => (index === 0 ? 11 - countDigits : 10);
      const ends = cutPoints(99, room)!;
      expect(ends[0]).toBe(9);
      expect(ends).toHaveLength(10);
      expect(cutPoints(100, room)).toHaveLength(11);
      expect(cutPoints(90, room)).toHaveLength(9);
      expect(cutPoints(90, room)![0]).toBe(10);
    });

    it('gives undefined when a part has no room for the next character', () => {
      expect(cutPoints(10, () => 0)).toBeUndefined();
      expect(cutPoints(encodeURIComponent('€€'), () => 8)).toBeUndefined();
    });
  });

  describe(joinChunks, () => {
    const cookies = { s: '2~6~abcdefgh~abc', 's.1': 'abcdefgh~def' };

    it('joins a whole set', () => {
      expect(joinChunks(cookies, 's', cookies.s, 4)).toBe('abcdef');
    });

    it('refuses a count past the most allowed', () => {
      expect(joinChunks(cookies, 's', cookies.s, 1)).toBeUndefined();
    });

    it('refuses a set whose joined length is not the one named', () => {
      expect(joinChunks({ ...cookies, 's.1': 'abcdefgh~de' }, 's', cookies.s, 4)).toBeUndefined();
      expect(joinChunks({ ...cookies, 's.1': 'abcdefgh~defg' }, 's', cookies.s, 4)).toBeUndefined();
    });
  });
});
