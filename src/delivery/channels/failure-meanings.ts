// What a failure code or a skip reason means, in the operator's words (fr, en), for the console's
// funnel. WhatsApp codes are Meta's (Cloud API error codes, the same ones whatsapp-errors.ts
// classifies); SMTP codes are read by their class; skip reasons are the send service's.
import type { Locale } from '../../shared/vocabulary.ts';

type Words = Readonly<Record<Locale, string>>;

export const WHATSAPP_CODE_MEANINGS: Readonly<Record<string, Words>> = {
  '0': { en: 'Authentication failed (AuthException)', fr: 'Authentification refusée (AuthException)' },
  '1': { en: 'Unknown API error', fr: 'Erreur inconnue de l’API' },
  '2': { en: 'API service temporarily unavailable', fr: 'Service de l’API momentanément indisponible' },
  '3': {
    en: 'The app lacks the capability or permission',
    fr: 'L’application n’a pas la capacité ou la permission',
  },
  '4': {
    en: 'Too many calls from the app (rate limit)',
    fr: 'Trop d’appels de l’application (limite de débit)',
  },
  '10': { en: 'Permission denied or removed', fr: 'Permission refusée ou retirée' },
  '100': { en: 'Invalid parameter in the request', fr: 'Paramètre invalide dans la requête' },
  '190': { en: 'Access token expired or invalid', fr: 'Jeton d’accès expiré ou invalide' },
  '368': {
    en: 'Temporarily blocked for policy violations',
    fr: 'Bloqué temporairement pour violation des règles',
  },
  '80007': {
    en: 'WhatsApp Business Account rate limit reached',
    fr: 'Limite de débit du compte WhatsApp Business atteinte',
  },
  '130429': { en: 'Throughput limit of the number reached', fr: 'Débit maximal du numéro atteint' },
  '130472': {
    en: 'Number is part of an experiment: not sent',
    fr: 'Numéro inclus dans une expérience : non envoyé',
  },
  '131000': { en: 'Something went wrong (Meta side)', fr: 'Erreur inattendue (côté Meta)' },
  '131008': { en: 'A required parameter is missing', fr: 'Un paramètre obligatoire manque' },
  '131009': { en: 'A parameter value is not valid', fr: 'Une valeur de paramètre n’est pas valide' },
  '131016': { en: 'Service temporarily unavailable', fr: 'Service momentanément indisponible' },
  '131021': {
    en: 'Sender and recipient are the same number',
    fr: 'L’expéditeur et le destinataire sont le même numéro',
  },
  '131026': {
    en: 'Message undeliverable (not on WhatsApp, old app, or terms not accepted)',
    fr: 'Message impossible à remettre (pas sur WhatsApp, application trop ancienne ou conditions non acceptées)',
  },
  '131030': {
    en: 'Recipient not in the allowed list (test number)',
    fr: 'Destinataire hors de la liste autorisée (numéro de test)',
  },
  '131031': { en: 'Business account locked', fr: 'Compte professionnel verrouillé' },
  '131042': {
    en: 'Payment problem on the business account',
    fr: 'Problème de paiement du compte professionnel',
  },
  '131047': {
    en: 'More than 24 hours since the person last wrote: templates only',
    fr: 'Plus de 24 heures depuis le dernier message de la personne : modèles seulement',
  },
  '131048': { en: 'Spam rate limit reached on the number', fr: 'Limite anti-spam du numéro atteinte' },
  '131049': {
    en: 'Not delivered to keep engagement healthy (per-user marketing limit)',
    fr: 'Non remis pour préserver l’engagement (limite marketing par personne)',
  },
  '131050': {
    en: 'The person stopped marketing messages',
    fr: 'La personne a refusé les messages marketing',
  },
  '131051': { en: 'Message type not supported', fr: 'Type de message non pris en charge' },
  '131056': {
    en: 'Too many messages to the same person (pair rate limit)',
    fr: 'Trop de messages à la même personne (limite par paire)',
  },
  '131057': { en: 'Business account in maintenance', fr: 'Compte professionnel en maintenance' },
  '132000': { en: 'Template parameter count does not match', fr: 'Nombre de paramètres du modèle incorrect' },
  '132001': { en: 'Template does not exist in that language', fr: 'Modèle inexistant dans cette langue' },
  '132005': { en: 'Template text too long once filled in', fr: 'Texte du modèle trop long une fois rempli' },
  '132007': {
    en: 'Template content breaks WhatsApp policy',
    fr: 'Contenu du modèle contraire aux règles de WhatsApp',
  },
  '132012': { en: 'Template parameter in the wrong format', fr: 'Paramètre du modèle au mauvais format' },
  '132015': { en: 'Template paused for low quality', fr: 'Modèle suspendu pour qualité insuffisante' },
  '132016': { en: 'Template disabled for low quality', fr: 'Modèle désactivé pour qualité insuffisante' },
  '133010': { en: 'Phone number not registered', fr: 'Numéro de téléphone non enregistré' },
};

export const SKIP_REASON_MEANINGS: Readonly<Record<string, Words>> = {
  'campaign-cancelled': { en: 'Campaign cancelled before sending', fr: 'Campagne annulée avant l’envoi' },
  cancelled: { en: 'Campaign cancelled before sending', fr: 'Campagne annulée avant l’envoi' },
  'campaign-not-running': {
    en: 'Campaign not running at send time',
    fr: 'Campagne à l’arrêt au moment de l’envoi',
  },
  'channel-down': {
    en: 'Channel stopped (token or account problem)',
    fr: 'Canal arrêté (problème de jeton ou de compte)',
  },
  'deadline-passed': { en: 'Deadline passed before sending', fr: 'Échéance passée avant l’envoi' },
  done: { en: 'The person said they are done', fr: 'La personne a indiqué avoir terminé' },
  erased: { en: 'Subscriber erased', fr: 'Abonné effacé' },
  'no-consent': { en: 'No active consent on this channel', fr: 'Pas de consentement actif sur ce canal' },
  'not-configured': { en: 'Channel not configured on this server', fr: 'Canal non configuré sur ce serveur' },
  stopped: { en: 'The person replied STOP', fr: 'La personne a répondu STOP' },
  unsubscribed: { en: 'The person unsubscribed', fr: 'La personne s’est désabonnée' },
};

const SMTP_CLASSES: Readonly<Record<string, Words>> = {
  '4': { en: 'Mail server: temporary refusal', fr: 'Serveur de messagerie : refus temporaire' },
  '5': {
    en: 'Mail server: permanent refusal (address or content)',
    fr: 'Serveur de messagerie : refus définitif (adresse ou contenu)',
  },
};

/** The meaning of a failure code on a channel, or undefined when it is not one we know. */
export function failureMeaning(channel: string, code: string, locale: Locale): string | undefined {
  if (channel === 'whatsapp') return WHATSAPP_CODE_MEANINGS[code]?.[locale];
  return /^[45]\d\d$/.test(code) ? SMTP_CLASSES[code[0]!]?.[locale] : undefined;
}

/** Every meaning in one language, for the console's live funnel (a JSON data block). */
export function meaningsFor(locale: Locale) {
  const pick = (table: Readonly<Record<string, Words>>) =>
    Object.fromEntries(Object.entries(table).map(([k, w]) => [k, w[locale]]));
  return {
    whatsapp: pick(WHATSAPP_CODE_MEANINGS),
    smtp: pick(SMTP_CLASSES),
    skip: pick(SKIP_REASON_MEANINGS),
  };
}
