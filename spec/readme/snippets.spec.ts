import path from 'node:path';
import {
  fencedBlocks,
  readMarkdown,
  SKIP_TYPECHECK_MARKER,
  typecheckSnippets,
  type SnippetCheck,
} from '../support/readmeSnippets.js';

const root = path.resolve(__dirname, '../..');
// The README's snippets, and those of the guides a user copies from as they are.
for (const README of ['README.md', 'docs/migrating.md']) {
  const blocks = fencedBlocks(readMarkdown(root, README));
  const snippets = blocks.filter((block) => block.language === 'ts');
  const checked = snippets.filter((block) => !block.code.includes(SKIP_TYPECHECK_MARKER));
  const skipped = snippets.filter((block) => block.code.includes(SKIP_TYPECHECK_MARKER));

  describe(README, () => {
    describe('code fences', () => {
      it('has TypeScript snippets to check', () => {
        expect(checked.length).toBeGreaterThan(0);
      });

      it('fences TypeScript as ts, so that no snippet escapes the check', () => {
        const escaping = blocks
          .filter((block) => /^(typescript|tsx|mts|cts|js|javascript|jsx|mjs|cjs)$/i.test(block.language))
          .map((block) => `${README}:${block.line} (${block.language}): ${block.firstLine}`);
        expect(escaping).toEqual([]);
      });
    });

    describe('TypeScript snippets', () => {
      let results: Map<number, SnippetCheck>;

      beforeAll(() => {
        results = new Map(typecheckSnippets(root, README, checked).map((result) => [result.block.line, result]));
      }, 120_000);

      it.each(checked.map((block) => [block.line, block.firstLine] as const))(
        'the snippet at line %i (%s) type-checks as copied',
        (line, firstLine) => {
          const { errors } = results.get(line)!;
          if (errors.length > 0) {
            throw new Error(
              `The ${README} snippet at line ${line} ("${firstLine}") does not type-check:\n  ${errors.join('\n  ')}`,
            );
          }
        },
      );

      if (skipped.length > 0) {
        it.skip.each(skipped.map((block) => [block.line, block.firstLine] as const))(
          `the snippet at line %i (%s) says ${SKIP_TYPECHECK_MARKER}`,
          () => undefined,
        );
      }
    });
  });
}
