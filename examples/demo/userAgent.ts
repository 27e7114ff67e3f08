// A device's name for the "Your sessions" page, from its User-Agent: the browser family
// and the system, "Chrome on Linux", "Safari on iPhone". A few patterns, not a parser:
// it names what most people use and says "Unknown browser" for the rest.

/**
 * Browser families, first match wins: Edge, Opera and Samsung Internet also say
 * "Chrome", Chrome also says "Safari", and on iOS every browser is WebKit under its own
 * token (CriOS, FxiOS, EdgiOS).
 */
const BROWSERS: readonly (readonly [RegExp, string])[] = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/Chrome\/|\bCriOS\//, 'Chrome'], // HeadlessChrome too
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

/** Systems, first match wins: iOS says "like Mac OS X", Android says "Linux". */
const SYSTEMS: readonly (readonly [RegExp, string])[] = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/**
 * Names a device by its User-Agent.
 *
 * @param userAgent - The User-Agent the session's browser sent, if any.
 * @returns "Chrome on Linux", "Firefox on Windows", "Safari on iPhone"…; the browser
 *   alone when the system is not recognised; "Unknown browser" (on its system, when
 *   that is recognised) otherwise.
 * @example
 * ```ts
 * describeUserAgent('Mozilla/5.0 (X11; Linux x86_64) … Chrome/126.0.0.0 Safari/537.36'); // 'Chrome on Linux'
 * ```
 */
export function describeUserAgent(userAgent: string | undefined): string {
  const text = userAgent ?? '';
  const browser = BROWSERS.find(([pattern]) => pattern.test(text))?.[1] ?? 'Unknown browser';
  const system = SYSTEMS.find(([pattern]) => pattern.test(text))?.[1];
  return system === undefined ? browser : `${browser} on ${system}`;
}
