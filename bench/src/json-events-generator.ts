/**
 * The 'json-events' state of state-generators.ts: per session, its last event as JSON (ids, timestamps,
 * user agents, URLs, enum-like fields, numbers; 170–740 B, median ~540), keyed `session:<uuid>`. Fields are
 * drawn with skewed weights, as real traffic is; ids are random (they bound how well it compresses).
 */
import type { Snapshot, StateRecord } from '../../src/checkpoint/state/state-types';
import { HOUR_US, int, picker, sortByKey, T0, lsnAt } from './generated-records';
import type { Slab } from './recovery-bench-state';

const EVENT = picker<string>([
  ['page_view', 40],
  ['product_view', 22],
  ['search', 10],
  ['add_to_cart', 8],
  ['remove_from_cart', 2],
  ['checkout_started', 4],
  ['purchase', 2],
  ['login', 3],
  ['video_play', 4],
  ['share', 1],
  ['newsletter_signup', 1],
]);
const USER_AGENT = picker<string>([
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    30,
  ],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    20,
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.107 Mobile Safari/537.36',
    14,
  ],
  [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
    9,
  ],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0', 6],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
    6,
  ],
  [
    'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.6668.100 Mobile Safari/537.36',
    4,
  ],
  [
    'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
    3,
  ],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0', 2],
  ['ShopApp/5.12.1 (iPhone15,3; iOS 18.1; Scale/3.00)', 4],
  ['ShopApp/5.11.0 (Android 14; SM-A546B; okhttp/4.12.0)', 3],
]);
const GEO = picker<readonly [string, string, string]>([
  [['US', 'New York', 'en-US'], 14],
  [['US', 'Los Angeles', 'en-US'], 8],
  [['US', 'Chicago', 'en-US'], 5],
  [['DE', 'Berlin', 'de-DE'], 7],
  [['DE', 'Munich', 'de-DE'], 4],
  [['GB', 'London', 'en-GB'], 8],
  [['FR', 'Paris', 'fr-FR'], 6],
  [['NL', 'Amsterdam', 'nl-NL'], 3],
  [['ES', 'Madrid', 'es-ES'], 3],
  [['IT', 'Milan', 'it-IT'], 3],
  [['BR', 'Sao Paulo', 'pt-BR'], 4],
  [['IN', 'Bengaluru', 'en-IN'], 5],
  [['JP', 'Tokyo', 'ja-JP'], 4],
  [['CA', 'Toronto', 'en-CA'], 3],
  [['AU', 'Sydney', 'en-AU'], 2],
  [['PL', 'Warsaw', 'pl-PL'], 2],
  [['SE', 'Stockholm', 'sv-SE'], 1],
]);
const REFERRER = picker<string>([
  ['', 30],
  ['https://www.google.com/', 35],
  ['https://www.bing.com/', 4],
  ['https://duckduckgo.com/', 2],
  ['https://www.facebook.com/', 6],
  ['https://t.co/', 3],
  ['https://www.instagram.com/', 5],
  ['https://news.ycombinator.com/', 1],
  ['https://mail.google.com/', 4],
]);
const SCREEN = picker<string>([
  ['1920x1080', 25],
  ['390x844', 18],
  ['1536x864', 8],
  ['412x915', 10],
  ['1440x900', 7],
  ['2560x1440', 6],
  ['393x873', 8],
  ['820x1180', 3],
]);
const CURRENCY = picker<string>([
  ['USD', 50],
  ['EUR', 35],
  ['GBP', 10],
  ['JPY', 5],
]);
const WORDS = (
  'blue red black white green oak steel linen wool cotton leather classic slim wide mini pro max lite ' +
  'chair table lamp sofa desk shelf rug mug kettle jacket shirt boots sneakers backpack watch headphones ' +
  'speaker charger cable case bottle pan knife towel pillow blanket mirror vase plant frame candle'
).split(' ');
const CATEGORIES = [
  'home',
  'kitchen',
  'fashion',
  'electronics',
  'outdoor',
  'garden',
  'office',
  'sports',
  'toys',
];
const UTM = [
  '',
  '',
  '',
  '?utm_source=google&utm_medium=cpc&utm_campaign=winter_sale',
  '?utm_source=newsletter',
];
const hex = (rand: () => number, chars: number): string => {
  let s = '';
  while (s.length < chars) s += ((rand() * 0x1_0000_0000) >>> 0).toString(16).padStart(8, '0');
  return s.slice(0, chars);
};
const uuid = (rand: () => number): string => {
  const h = hex(rand, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[int(rand, 4)]}${h.slice(17, 20)}-${h.slice(20)}`;
};
const slug = (rand: () => number): string =>
  `${WORDS[int(rand, WORDS.length)]}-${WORDS[int(rand, WORDS.length)]}-${WORDS[int(rand, WORDS.length)]}`;
const price = (rand: () => number): number => Math.round((5 + rand() * rand() * 400) * 100) / 100 - 0.01;

function properties(type: string, rand: () => number): Record<string, unknown> {
  const sku = `sku-${100000 + int(rand, 900000)}`;
  switch (type) {
    case 'product_view':
    case 'add_to_cart':
    case 'remove_from_cart':
      return {
        product_id: sku,
        name: slug(rand),
        price: price(rand),
        currency: CURRENCY(rand),
        quantity: 1 + int(rand, 3),
      };
    case 'search':
      return {
        query: `${WORDS[int(rand, WORDS.length)]} ${WORDS[int(rand, WORDS.length)]}`,
        results: int(rand, 480),
      };
    case 'checkout_started':
    case 'purchase':
      return {
        order_id: `ord_${hex(rand, 12)}`,
        items: 1 + int(rand, 5),
        total: price(rand) * (1 + int(rand, 3)),
        currency: CURRENCY(rand),
        coupon: rand() < 0.2 ? 'WINTER15' : null,
      };
    case 'video_play':
      return { video_id: `v_${hex(rand, 10)}`, position_s: int(rand, 600), autoplay: rand() < 0.3 };
    default:
      return {};
  }
}

/** Sent by the backend: no page, no browser context, always a known user. */
const SERVER_SIDE = new Set(['purchase', 'login']);

/** The last event of a session at µs `t`, as JSON (ASCII only). The session id is the key, not repeated. */
export function eventValue(slab: Slab, rand: () => number, t: number): Buffer {
  const type = EVENT(rand);
  const [country, city, locale] = GEO(rand);
  const server = SERVER_SIDE.has(type);
  const user = server || rand() < 0.4 ? `u_${1000000 + int(rand, 9000000)}` : undefined;
  const event: Record<string, unknown> = {
    event_id: uuid(rand),
    type,
    ts: new Date(t / 1000).toISOString(),
    ...(user ? { user_id: user } : { anonymous_id: uuid(rand) }),
  };
  if (!server) {
    const category = CATEGORIES[int(rand, CATEGORIES.length)]!;
    const path =
      type === 'search'
        ? `/search?q=${WORDS[int(rand, WORDS.length)]}`
        : type.includes('product') || type.includes('cart')
          ? `/products/${slug(rand)}-${int(rand, 100000)}`
          : `/${category}${rand() < 0.5 ? `/${slug(rand)}` : ''}`;
    const referrer = REFERRER(rand);
    event.page = {
      url: `https://shop.example.com${path}${UTM[int(rand, UTM.length)]}`,
      ...(referrer ? { referrer } : {}),
    };
    event.context = {
      ip: `${1 + int(rand, 223)}.${int(rand, 256)}.${int(rand, 256)}.${int(rand, 256)}`,
      user_agent: USER_AGENT(rand),
      locale,
      screen: SCREEN(rand),
    };
  }
  event.geo = { country, city };
  const props = properties(type, rand);
  if (Object.keys(props).length > 0) event.properties = props;
  event.seq = 1 + int(rand, 60);
  return slab.text(JSON.stringify(event));
}

export function jsonEvents(targetBytes: number, rand: () => number, slab: Slab): Snapshot {
  const records: StateRecord[] = [];
  let bytes = 0;
  while (bytes < targetBytes) {
    const session = uuid(rand);
    const t = T0 * 1000 - Math.floor(rand() * HOUR_US);
    const key = slab.text(`session:${session}`);
    const value = eventValue(slab, rand, t);
    records.push({ key, value, lsn: 0, timestamp: t });
    bytes += key.length + value.length;
  }
  sortByKey(records);
  for (const r of records) r.lsn = lsnAt(r.timestamp, records.length);
  return { lsn: records.length, components: new Map([['sessions', { componentId: 'sessions', records }]]) };
}
