// A Jest transformer for the ES-module-only packages the suite turns into CommonJS
// (Nest 12): ts-jest, after replacing `import.meta.url`, which has no meaning in
// CommonJS, with the file's own URL. Jest loads transformers with plain `require`,
// so this one is CommonJS itself. Nest uses `import.meta.url` only to build a
// `createRequire` for optional packages.
'use strict';
const { TsJestTransformer } = require('ts-jest');

/** The source with `import.meta.url` spelled in CommonJS. */
function withoutImportMeta(source) {
  return source.replaceAll('import.meta.url', "require('node:url').pathToFileURL(__filename).href");
}

class ImportMetaTransformer extends TsJestTransformer {
  process(source, path, options) {
    return super.process(withoutImportMeta(source), path, options);
  }

  getCacheKey(source, path, options) {
    return super.getCacheKey(withoutImportMeta(source), path, options);
  }
}

module.exports = { createTransformer: (config) => new ImportMetaTransformer(config) };
