import { Context, createContextKey } from 'kit-session';

describe(Context, () => {
  describe('.withValue', () => {
    it('returns a new context and leaves the old one unchanged', () => {
      const key = createContextKey<number>('n');
      const next = Context.background.withValue(key, 1);
      expect(next).not.toBe(Context.background);
      expect(next.value(key)).toBe(1);
      expect(Context.background.value(key)).toBeUndefined();
    });

    it('when the same key is set twice, the newer value wins and the older context keeps its own', () => {
      const key = createContextKey<string>('s');
      const first = Context.background.withValue(key, 'a');
      const second = first.withValue(key, 'b');
      expect(second.value(key)).toBe('b');
      expect(first.value(key)).toBe('a');
    });

    it('keeps the values of every ancestor', () => {
      const a = createContextKey<string>('a');
      const b = createContextKey<number>('b');
      const context = Context.background.withValue(a, 'x').withValue(b, 2);
      expect(context.value(a)).toBe('x');
      expect(context.value(b)).toBe(2);
    });
  });

  describe('.value', () => {
    it('tells keys apart by identity, not by name', () => {
      const one = createContextKey<number>('same');
      const two = createContextKey<number>('same');
      const context = Context.background.withValue(one, 1);
      expect(context.value(two)).toBeUndefined();
    });

    it('holds undefined as a value without confusing it with an ancestor value', () => {
      const key = createContextKey<string | undefined>('k');
      const context = Context.background.withValue(key, 'set').withValue(key, undefined);
      expect(context.value(key)).toBeUndefined();
    });
  });

  describe(createContextKey, () => {
    it('makes frozen keys', () => {
      expect(Object.isFrozen(createContextKey('k'))).toBe(true);
    });
  });
});
