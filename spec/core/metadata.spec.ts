import { decodeMeta, encodeMeta, MAX_META_TEXT, metadataOf } from '../../lib/core/metadata.js';

describe('session metadata', () => {
  describe(decodeMeta, () => {
    it('reads back what encodeMeta wrote', () => {
      const fields = { c: 1, a: 2, s: 3, u: 'agent', i: '203.0.113.1', g: 4 };
      expect(decodeMeta(encodeMeta(fields))).toEqual(fields);
    });

    it.each([
      ['no text', undefined],
      ['text that is not JSON', '{c:1'],
      ['JSON null', 'null'],
      ['a JSON number', '5'],
      ['no creation time', '{"a":1}'],
      ['a creation time that is text', '{"c":"1"}'],
      ['a creation time that is not finite', '{"c":1e999}'],
    ])('reads %s as no metadata', (_label, text) => {
      expect(decodeMeta(text)).toBeUndefined();
    });

    it('drops fields of the wrong type and cuts long texts', () => {
      const long = 'x'.repeat(MAX_META_TEXT + 10);
      expect(decodeMeta(JSON.stringify({ c: 1, a: 'soon', s: null, u: long, i: 42, g: 'x' }))).toEqual({
        c: 1,
        a: undefined,
        s: undefined,
        u: 'x'.repeat(MAX_META_TEXT),
        i: undefined,
        g: undefined,
      });
    });
  });

  describe(encodeMeta, () => {
    it('leaves out the fields that are undefined', () => {
      expect(JSON.parse(encodeMeta({ c: 1, a: undefined, u: undefined }))).toStrictEqual({ c: 1 });
    });
  });

  describe(metadataOf, () => {
    it('gives dates, and undefined for what was never recorded', () => {
      expect(metadataOf({ c: 1000, s: 3000, u: 'agent' })).toEqual({
        createdAt: new Date(1000),
        authenticatedAt: undefined,
        lastSeen: new Date(3000),
        userAgent: 'agent',
        clientAddress: undefined,
      });
    });
  });
});
