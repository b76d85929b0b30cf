// Les mots de la console, en français (la langue par défaut). English: i18n.en.ts.

import type { TemplateAlert } from '../../campaigns/template-usage.ts';

/** A re-plan under newer time-zone data, as the campaign page words it (docs/timezones.md). */
export interface TzReplanText {
  readonly from: string;
  readonly to: string;
  readonly slots: number;
  readonly moved: number;
  readonly earlier: number;
  readonly later: number;
  readonly cancelled: number;
}

export const fr = {
  lang: 'fr' as 'fr' | 'en',
  switchTo: { lang: 'en', label: 'English' } as { lang: 'fr' | 'en'; label: string },
  skip: 'Aller au contenu',
  nav: { campaigns: 'Campagnes', subscribers: 'Abonnés', import: 'Import', label: 'Console' },
  signedInAs: (name: string, scope: string) => `Connecté : ${name} (${scope})`,
  signOut: 'Se déconnecter',
  /** Between a label and its value: French puts a narrow no-break space before the colon. */
  colon: '\u202f: ',
  /** A channel's consent state, as the profile and the list show it. */
  channelStates: {
    active: 'actif',
    pending: 'en attente de confirmation',
    unsubscribed: 'désinscrit',
    stopped: 'arrêté (STOP)',
    bounced: 'adresse rejetée',
    complained: 'signalé comme indésirable',
  } as Record<string, string>,
  since: 'depuis',
  consentGiven: 'consentement donné',
  consentKinds: {
    import: 'importé',
    opt_in: 'inscription',
    confirm: 'confirmation',
    opt_out: 'désinscription',
    resume: 'reprise (START)',
    done: 'a terminé',
  } as Record<string, string>,
  consentSources: {
    'web-form': 'formulaire d’inscription',
    'confirm-link': 'lien de confirmation',
    'one-click': 'désinscription en un clic',
    'unsubscribe-link': 'lien de désinscription',
    'done-link': 'lien « c’est fait »',
    whatsapp: 'réponse WhatsApp',
    bounce: 'rejet du serveur de messagerie',
    complaint: 'plainte du destinataire',
  } as Record<string, string>,
  /** One delivery's status (the funnel's columns count many: "Envoyés"). */
  deliveryStatus: {
    queued: 'En file',
    sent: 'Envoyé',
    delivered: 'Remis',
    read: 'Lu',
    failed: 'Échec',
    skipped: 'Écarté',
    unknown: 'Inconnu',
  } as Record<string, string>,
  /** Values of the shipped `assistant` attribute. */
  assistants: { chatgpt: 'ChatGPT', copilot: 'Copilot', both: 'les deux' } as Record<string, string>,
  queueBoard: 'Files d’attente',
  readOnly: 'Clé en lecture seule : vous voyez tout mais ne pouvez rien modifier.',
  readOnlyButton: 'Clé d’écriture nécessaire',
  signIn: {
    title: 'Connexion à la console',
    intro: 'Collez une clé d’API : ADMIN_TOKEN, ou une clé créée avec « lastcall api-keys create ».',
    key: 'Clé d’API',
    submit: 'Se connecter',
    bad: 'Cette clé n’est pas valide (inconnue, révoquée ou mal recopiée).',
    expired: 'Votre session a pris fin. Connectez-vous à nouveau.',
    signedOut: 'Vous êtes déconnecté.',
  },
  csrfRefused: 'Ce formulaire est périmé ou ne vient pas de la console. Rien n’a été modifié.',
  forbidden: 'Votre clé est en lecture seule : il faut une clé d’écriture. Rien n’a été modifié.',
  states: {
    draft: 'brouillon',
    running: 'en cours',
    paused: 'en pause',
    cancelled: 'annulée',
    finished: 'terminée',
  } as Record<string, string>,
  campaigns: {
    title: 'Campagnes',
    none: 'Aucune campagne. Créez-en une avec « lastcall campaign create --file F.yaml ».',
    name: 'Campagne',
    state: 'État',
    deadline: 'Échéance',
    countdown: 'Temps restant',
    calendar: 'Envois',
    audience: 'Audience',
    everyone: 'tous les abonnés',
    tags: 'étiquettes',
    or: 'ou',
    progress: 'Envoyés / prévus',
    notStarted: 'pas démarrée',
    passed: 'passée',
  },
  campaign: {
    deadlineUtc: 'UTC',
    yourZone: 'votre fuseau',
    asWritten: 'telle qu’écrite dans le fichier',
    funnel: 'Entonnoir par étape et canal',
    funnelCaption: 'Mis à jour toutes les quelques secondes tant que la page est ouverte.',
    updated: 'Mis à jour',
    step: 'Étape',
    channel: 'Canal',
    planned: 'Prévus',
    queued: 'En file',
    sent: 'Envoyés',
    delivered: 'Remis',
    read: 'Lus',
    failed: 'Échecs',
    skipped: 'Écartés',
    unknown: 'Inconnus',
    failures: 'Échecs par code',
    skips: 'Écartés par raison',
    pricing: 'Messages WhatsApp facturés par Meta, par catégorie',
    pricingCategory: 'Catégorie',
    billable: 'Facturables',
    free: 'Gratuits',
    estimatedCost: 'Coût estimé',
    costTotal: (amount: string) => `Coût estimé des messages facturables, à vos prix : ${amount}.`,
    unpriced: (n: string) => `${n} messages facturables sans prix dans votre table.`,
    noPriceTable:
      'Pas de table de prix : copiez config/whatsapp-prices.example.yaml en config/whatsapp-prices.yaml et mettez-y vos prix pour un coût estimé.',
    noneYet: 'Aucun pour l’instant.',
    sendsChart: 'Envois par minute, dernière heure',
    sendsChartHelp: 'Messages remis à WhatsApp et au serveur de messagerie, par minute et par canal.',
    sendsTotal: (n: string) => `${n} dans la dernière heure.`,
    planChart: 'Plan : envois par heure à venir, par fuseau horaire',
    planChartHelp: 'Empilés par fuseau horaire des abonnés ; la ligne rouge est l’échéance.',
    planEmpty: 'Plus rien n’est prévu.',
    tzReplanned: (r: TzReplanText) =>
      `Règles de fuseaux horaires mises à jour (données ${r.from} → ${r.to}) : ${r.slots} envois prévus recalculés, ${r.moved} déplacés (${r.earlier} plus tôt, ${r.later} plus tard), ${r.cancelled} annulés. Dernière fois :`,
    planTotal: (n: string) => `${n} envois à venir`,
    templatesChanged: 'Meta a modifié des modèles WhatsApp que cette campagne envoie :',
    templateAlert: (t: TemplateAlert) =>
      [
        t.categoryChange === 'done' && `recatégorisé ${t.previousCategory ?? '?'} → ${t.category ?? '?'}`,
        t.categoryChange === 'impending' &&
          `sera recatégorisé ${t.previousCategory ?? ''} → ${t.category ?? '?'}`.replace('  ', ' '),
        ['PAUSED', 'DISABLED', 'REJECTED'].includes(t.status) && `statut ${t.status}`,
        (t.quality === 'YELLOW' || t.quality === 'RED') && `qualité ${t.quality}`,
      ]
        .filter(Boolean)
        .join(' ; '),
    limitOver: (limit: number, meta: boolean) =>
      `La limite d’envoi WhatsApp (${limit.toLocaleString('fr')} personnes sur 24 h glissantes, ${meta ? 'selon Meta' : 'WHATSAPP_MESSAGING_LIMIT'}) est inférieure à ce que ce plan demande. Les personnes au-delà seront retenues : ignorées, motif messaging-limit.`,
    limitStep: (step: string, people: number, held: number) =>
      `Étape ${step} : ${people.toLocaleString('fr')} personnes sur WhatsApp, ${held.toLocaleString('fr')} retenues`,
    limitSpread: (limit: number) =>
      `Étapes réparties sur les jours précédents pour que la limite d’envoi WhatsApp (${limit.toLocaleString('fr')} personnes sur 24 h glissantes) ne retienne personne :`,
    limitSpreadStep: (step: string, people: number, parts: readonly number[]) =>
      `Étape ${step} : ${people.toLocaleString('fr')} personnes sur ${parts.length} jours (${parts.map((n) => n.toLocaleString('fr')).join(' + ')})`,
    actions: 'Actions',
    back: 'Toutes les campagnes',
  },
  actions: {
    start: 'Démarrer',
    pause: 'Mettre en pause',
    resume: 'Reprendre',
    cancel: 'Annuler la campagne',
    confirmTitle: (action: string, name: string) => `${action} : ${name} ?`,
    what: {
      start:
        'Chaque abonné ayant consenti au canal d’une étape est planifié maintenant, dans son propre fuseau. Les envois commencent à l’heure de la première étape.',
      pause:
        'Aucun nouvel envoi ne commence. Les messages déjà confiés à un expéditeur se terminent ; ce qui arrive à échéance pendant la pause attend.',
      resume:
        'Les envois reprennent. Les étapes échues pendant la pause deviennent au plus un rattrapage par fuseau ; celles trop tardives sont abandonnées.',
      cancel:
        'Définitif : les envois prévus sont annulés et les messages en attente écartés. Une campagne annulée ne peut pas redémarrer.',
    } as Record<'start' | 'pause' | 'resume' | 'cancel', string>,
    confirm: 'Oui, confirmer',
    keep: 'Non, revenir',
    done: {
      start: (n: string) => `Démarrée : ${n} couples abonné × canal planifiés.`,
      pause: 'En pause : aucun nouvel envoi ne commence.',
      resume: 'De nouveau en cours.',
      cancel: 'Annulée.',
      unchanged: 'Rien à faire : elle était déjà dans cet état.',
    },
  },
  subscribers: {
    title: 'Abonnés',
    search: 'Trouver un abonné',
    searchHelp:
      'Un identifiant, un numéro au format international (+33612345678) ou une adresse e-mail ; ou nom=valeur pour lister les abonnés qui ont cet attribut (plan=pro).',
    searchButton: 'Chercher',
    notFound: 'Aucun abonné avec cet identifiant, ce numéro ou cette adresse.',
    list: 'Abonnés par identifiant',
    next: 'Page suivante',
    id: 'Identifiant',
    name: 'Nom',
    zone: 'Fuseau',
    channels: 'Canaux',
    attributes: 'Attributs',
    withAttribute: (name: string, value: string) => `Abonnés dont ${name} vaut « ${value} »`,
    noneWithAttribute: 'Aucun abonné n’a cette valeur d’attribut.',
    none: 'Aucun abonné pour l’instant.',
  },
  profile: {
    title: (id: string) => `Abonné ${id}`,
    details: 'Fiche',
    phone: 'Téléphone',
    email: 'E-mail',
    locale: 'Langue',
    zone: 'Fuseau',
    attributes: 'Attributs',
    tags: 'Étiquettes',
    done: 'A indiqué avoir terminé',
    created: 'Créé',
    channels: 'Canaux et consentement',
    username: (name: string) => `Utilise le nom d’utilisateur WhatsApp ${name}`,
    whatsappUserId: 'Identifiant propre à l’entreprise (BSUID)',
    consent: 'Historique du consentement',
    consentWhen: 'Quand',
    consentWhat: 'Quoi',
    consentSource: 'Source',
    consentEvidence: 'Preuve',
    deliveries: (shown: number, total: number) => `Envois (${shown} derniers sur ${total})`,
    deliveriesNone: 'Aucun envoi pour l’instant.',
    history: 'Historique des statuts',
    campaignStep: 'Campagne / étape',
    status: 'Statut',
    erase: 'Effacer cet abonné',
    eraseTitle: (id: string) => `Effacer l’abonné ${id} ?`,
    eraseWhat: 'C’est irréversible. Supprimés maintenant :',
    eraseItems: (p: { channels: number; events: number; deliveries: number; who: string }) => [
      `le nom, le numéro de téléphone et l’adresse e-mail (${p.who}), la langue, le fuseau et les étiquettes`,
      `${p.channels} consentement(s) par canal et ${p.events} événement(s) de consentement avec leurs preuves`,
      `le lien de la personne avec ${p.deliveries} envoi(s) (gardés anonymes pour les chiffres de campagne ; ceux non envoyés sont écartés)`,
      'les rattrapages personnels pas encore envoyés',
    ],
    eraseKept:
      'Une empreinte (hachée) du numéro et de l’adresse est conservée pour qu’un import ne les ramène pas ; seule la personne peut se réinscrire.',
    erased: (id: string, n: number) => `L’abonné ${id} a été effacé ; ${n} envoi(s) conservé(s) sans lui.`,
  },
  importPage: {
    title: 'Importer des abonnés',
    intro:
      'Un CSV avec les colonnes id, name, phone, email, locale, timezone, channels, consent_at, consent_source (et, facultatives, tags, assistant et des colonnes d’attributs attr.<nom>).',
    file: 'Fichier CSV',
    dryRun: 'Essai : vérifier le fichier sans rien écrire',
    strict: 'Strict : ne rien importer si une ligne est mauvaise',
    submit: 'Importer',
    progress: 'Progression de l’envoi et de l’import',
    noScript: 'L’import a besoin de JavaScript sur cette page (le fichier est transmis au serveur en flux).',
    summary: 'Bilan',
    rows: 'Lignes lues',
    inserted: 'Nouveaux',
    updated: 'Mis à jour',
    unchanged: 'Inchangés',
    bad: 'Lignes refusées',
    consentEvents: 'Événements de consentement enregistrés',
    planned: 'Abonnés planifiés dans les campagnes en cours',
    committed: 'Écrit dans la base',
    notCommitted: 'Rien n’a été écrit (essai, ou mode strict avec des lignes refusées).',
    badRows: 'Lignes refusées, par numéro de ligne',
    notedRows: 'Lignes importées avec une remarque, par numéro de ligne',
    line: 'Ligne',
    problem: 'Problème',
    failed: 'L’import a échoué :',
  },
  yes: 'oui',
  no: 'non',
  channelNames: { whatsapp: 'WhatsApp', email: 'E-mail' } as Record<string, string>,
  notFound: 'Introuvable.',
};

export type ConsoleMessages = typeof fr;
