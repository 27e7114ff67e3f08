// Real User-Agent strings, for specs whose devices the demo names ("Firefox on Windows").

/** A User-Agent and the name the demo's "Your sessions" page gives it. */
export interface NamedUserAgent {
  readonly userAgent: string;
  readonly name: string;
}

/** Four devices a person might log in from. */
export const USER_AGENTS = {
  laptop: {
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
    name: 'Firefox on Windows',
  },
  phone: {
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    name: 'Safari on iPhone',
  },
  tablet: {
    userAgent: 'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    name: 'Chrome on Android',
  },
  desktop: {
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    name: 'Chrome on Linux',
  },
} as const satisfies Record<string, NamedUserAgent>;
