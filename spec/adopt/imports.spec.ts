import path from 'node:path';
import { dist, packagesLoadedBy } from '../support/moduleGraph.js';

// An adopter loads the library it adopts from only where it opens that library's cookie
// with the library's own code; the express-session one signs with node:crypto and reads
// the app's store object, and loads nothing of express-session.
describe('adopter subpaths', () => {
  it.each([
    ['express-session', ['cookie']],
    ['iron-session', ['cookie', 'iron-session']],
    ['react-router', ['cookie', 'react-router']],
  ])('kit-session/adopt/%s loads %j at run time, besides node builtins, and no other package', (name, expected) => {
    const packages = [...packagesLoadedBy(path.join(dist, 'adopt', name, 'index.js'))];
    expect(packages.filter((specifier) => !specifier.startsWith('node:')).sort()).toEqual(expected);
  });

  it('the root entry point loads none of them', () => {
    const root = [...packagesLoadedBy(path.join(dist, 'index.js'))];
    expect(root.filter((name) => ['iron-session', 'react-router', 'express-session'].includes(name))).toEqual([]);
  });
});
