// Looking subscribers up, read-only: the keyset list (with a name=value attribute search), one
// subscriber's whole profile, and the subscriber a key (id, phone or email) names. What the admin
// API, the console and `subscribers show` read; built once per process by the composition root.
import type { Db } from '../store/pool.ts';
import { findByKey, type KeyedSubscriber, type SubscriberKey } from './subscriber-key.ts';
import { listSubscribers } from './subscriber-list.ts';
import { type SubscriberProfile, subscriberProfile } from './subscriber-profile.ts';

export function createDirectoryService(deps: { readonly db: Db }) {
  const { db } = deps;
  return {
    list(page: Parameters<typeof listSubscribers>[1]): ReturnType<typeof listSubscribers> {
      return listSubscribers(db, page);
    },
    /** NotFound (saying which kind of key, never the key itself) when nobody matches. */
    profile(key: SubscriberKey): Promise<SubscriberProfile> {
      return subscriberProfile(db, key);
    },
    find(key: SubscriberKey): Promise<KeyedSubscriber | undefined> {
      return findByKey(db, key);
    },
  };
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;
