// The words every part of Lastcall shares: the channels a reminder goes out on and the
// languages a subscriber reads. Planning, subscribers, delivery, the pages and the CLI all
// import them from here.

/** In preference order: a subscriber's channels and consents are listed in this order. */
export const CHANNELS = ['whatsapp', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

export const LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
