// French: the first language of the pages. `en` (i18n.en.ts) must have the same shape.

export const fr = {
  lang: 'fr',
  /** Quoting a message's words: French guillemets with narrow no-break spaces inside. */
  quote: (text: string) => `«\u202f${text}\u202f»`,
  /** Between a label and its value: a narrow no-break space before the colon in French. */
  colon: '\u202f: ',
  switchTo: { lang: 'en', label: 'English' },
  form: {
    title: 'Recevoir les rappels avant l’échéance',
    intro:
      'Recevez un rappel sur WhatsApp ou par e-mail, à votre heure locale, avec les étapes qui conviennent à l’assistant que vous utilisez. Vous pouvez arrêter à tout moment.',
    requiredNote: 'Tous les champs sont obligatoires, sauf indication contraire.',
    neededFor: { phone: '(pour WhatsApp)', email: '(pour les e-mails)' },
    name: { label: 'Votre prénom ou votre nom', hint: 'Il sert à vous saluer dans les messages.' },
    phone: {
      label: 'Numéro de téléphone WhatsApp',
      hint: 'Avec l’indicatif du pays, par exemple +33 6 12 34 56 78. Nécessaire pour WhatsApp.',
    },
    email: {
      label: 'Adresse e-mail',
      hint: 'Nécessaire pour les e-mails : nous vous enverrons un lien pour confirmer l’adresse.',
    },
    assistant: { legend: 'Quel assistant utilisez-vous sur WhatsApp ?', both: 'Les deux' },
    channels: {
      legend: 'Comment voulez-vous être prévenu ?',
      hint: 'Cochez un canal ou les deux.',
      whatsapp: 'WhatsApp',
      email: 'E-mail',
    },
    timezone: {
      label: 'Votre fuseau horaire',
      hint: 'Rempli d’après votre navigateur ; modifiez-le si besoin. Les rappels arrivent de jour, à votre heure.',
      placeholder: 'Choisissez un fuseau horaire',
    },
    consent: {
      legend: 'Votre accord',
      text: (sender: string) =>
        `J’accepte de recevoir de ${sender} des rappels au sujet de cette échéance, sur WhatsApp et par e-mail selon les canaux que j’ai cochés ci-dessus. Je peux arrêter à tout moment : en répondant STOP sur WhatsApp, ou avec le lien de désinscription présent dans chaque e-mail.`,
      textOne: (sender: string, channel: string) =>
        `J’accepte de recevoir de ${sender} des rappels au sujet de cette échéance, ${channel === 'WhatsApp' ? 'sur WhatsApp' : 'par e-mail'}. Je peux arrêter à tout moment : ${channel === 'WhatsApp' ? 'en répondant STOP sur WhatsApp' : 'avec le lien de désinscription présent dans chaque e-mail'}.`,
    },
    honeypot: 'Laissez ce champ vide',
    submit: 'M’inscrire',
  },
  errors: {
    summaryTitle: 'Il y a un problème',
    prefix: 'Erreur :',
    titlePrefix: 'Erreur : ',
    nameRequired: 'Indiquez votre prénom ou votre nom.',
    nameTooLong: 'Votre nom doit faire 200 caractères au plus.',
    nameOneLine: 'Votre nom doit tenir sur une ligne.',
    phoneInvalid:
      'Indiquez un numéro de téléphone valide, avec l’indicatif du pays, par exemple +33 6 12 34 56 78.',
    phoneForWhatsApp: 'Indiquez un numéro de téléphone pour recevoir les rappels sur WhatsApp.',
    contactRequired: 'Indiquez un numéro de téléphone, une adresse e-mail, ou les deux.',
    emailInvalid: 'Indiquez une adresse e-mail valide, par exemple prenom@exemple.fr.',
    emailForEmail: 'Indiquez une adresse e-mail pour recevoir les rappels par e-mail.',
    conflict:
      'Cette adresse e-mail et ce numéro de téléphone appartiennent à deux inscriptions différentes : indiquez ceux d’une seule inscription.',
    assistant: 'Choisissez l’assistant que vous utilisez.',
    channels: 'Choisissez au moins un canal : WhatsApp, e-mail, ou les deux.',
    timezone: 'Choisissez votre fuseau horaire dans la liste.',
    consent: 'Cochez la case pour accepter de recevoir les rappels.',
    other: 'Une valeur n’est pas acceptée. Vérifiez le formulaire.',
  },
  success: {
    title: 'Merci, votre inscription est enregistrée',
    whatsapp: 'Vous recevrez les rappels sur WhatsApp. Répondez STOP à tout moment pour arrêter.',
    checkEmail:
      'Nous venons de vous envoyer un e-mail. Ouvrez-le et suivez le lien pour confirmer votre adresse : sans cette confirmation, vous ne recevrez pas de rappels par e-mail.',
    emailActive: 'Votre adresse e-mail est déjà confirmée : vous recevrez aussi les rappels par e-mail.',
    emailNotSent:
      'L’e-mail de confirmation n’a pas pu être envoyé pour l’instant. Inscrivez-vous de nouveau un peu plus tard pour recevoir le lien.',
  },
  confirm: {
    confirmedTitle: 'Adresse e-mail confirmée',
    confirmedBody: 'Merci ! Vous recevrez les rappels par e-mail, à votre heure locale.',
    alreadyBody: 'Votre adresse était déjà confirmée. Vous n’avez rien d’autre à faire.',
    notPendingTitle: 'Rien à confirmer',
    notPendingBody:
      'Cette adresse n’attend pas de confirmation : elle a peut-être été désinscrite entre-temps. Pour recevoir de nouveau les rappels, inscrivez-vous.',
  },
  unsubscribe: {
    title: 'Se désinscrire',
    askAll: 'Vous ne recevrez plus aucun rappel, ni sur WhatsApp ni par e-mail.',
    askEmail: 'Vous ne recevrez plus de rappels par e-mail.',
    askWhatsapp: 'Vous ne recevrez plus de rappels sur WhatsApp.',
    button: 'Confirmer la désinscription',
    doneTitle: 'Vous êtes désinscrit',
    doneAll: 'C’est noté : vous ne recevrez plus aucun rappel, ni sur WhatsApp ni par e-mail.',
    doneEmail: 'C’est noté : vous ne recevrez plus de rappels par e-mail.',
    doneWhatsapp: 'C’est noté : vous ne recevrez plus de rappels sur WhatsApp.',
    continuesWhatsapp: 'Les rappels sur WhatsApp continuent : répondez STOP pour les arrêter aussi.',
    continuesEmail: 'Les rappels par e-mail continuent : le lien en bas de chacun les arrête aussi.',
    closePage: 'Vous pouvez fermer cette page.',
  },
  done: {
    askTitle: 'Vous avez terminé ?',
    ask: 'Si vous avez fait ce que les rappels demandent (par exemple exporté vos conversations), confirmez : nous ne vous enverrons plus de rappels pour cette échéance.',
    button: 'J’ai terminé',
    title: 'C’est noté',
    body: 'Vous avez terminé : nous ne vous enverrons plus de rappels pour cette échéance. Merci !',
  },
  link: {
    invalidTitle: 'Ce lien n’est pas valide',
    invalidBody: 'Vérifiez qu’il a été copié en entier, ou utilisez le lien d’un message plus récent.',
    expiredTitle: 'Ce lien a expiré',
    expiredBody: 'Pour recevoir un nouveau lien de confirmation, inscrivez-vous de nouveau.',
    goneTitle: 'Inscription introuvable',
    goneBody: 'Cette inscription n’existe plus. Aucun rappel ne vous sera envoyé.',
  },
  http: {
    400: ['Demande incorrecte', 'La demande n’a pas pu être lue. Revenez au formulaire et réessayez.'],
    404: ['Page introuvable', 'Cette adresse ne correspond à aucune page.'],
    413: [
      'Envoi trop volumineux',
      'Le formulaire envoyé est trop grand. Raccourcissez les champs et réessayez.',
    ],
    415: ['Format non pris en charge', 'Envoyez le formulaire depuis la page d’inscription.'],
    429: [
      'Trop de tentatives',
      'Vous avez envoyé le formulaire trop souvent. Patientez une minute et réessayez.',
    ],
    500: [
      'Une erreur est survenue',
      'Réessayez dans quelques instants. Si le problème continue, contactez-nous.',
    ],
  } as Record<400 | 404 | 413 | 415 | 429 | 500, readonly [string, string]>,
  backToForm: 'Revenir au formulaire',
  campaign: {
    listTitle: 'S’inscrire aux rappels',
    listIntro: 'Choisissez l’échéance dont vous voulez être prévenu :',
    deadline: 'Échéance :',
    before: (when: string) => `${when} avant`,
    remindersTitle: 'Les rappels',
    /** `calendar` : « en semaine, 9:00–18:00 à votre heure » (describeCalendar). */
    remindersIntro: (calendar: string) => `Envoyés ${calendar} :`,
    sampleSummary: 'Ce que dit le premier message WhatsApp',
    closedTitle: 'Les inscriptions sont closes',
    closedBody: 'L’échéance de cette campagne est passée : plus aucun rappel ne sera envoyé.',
    noneTitle: 'Aucune inscription ouverte',
    noneBody: 'Il n’y a pas d’échéance à laquelle s’inscrire pour le moment.',
    noChannels:
      'Aucun canal n’est encore configuré sur ce serveur : les inscriptions sont fermées pour le moment.',
    channelNames: { whatsapp: 'WhatsApp', email: 'e-mail' },
  },
  help: {
    deadlineIs: 'L’échéance est fixée au :',
    passed: 'Cette échéance est passée. C’était le :',
    passedNote: 'Plus aucun rappel n’est envoyé à ce sujet.',
    signUp: 'Recevoir les rappels',
    steps: 'Les rappels',
  },
  email: {
    subject: 'Confirmez votre adresse pour recevoir les rappels',
    greeting: (name: string) => `Bonjour ${name},`,
    body: (sender: string, about: string | undefined) =>
      `Vous (ou quelqu’un qui a saisi votre adresse) avez demandé à ${sender} des rappels par e-mail${about ? ` au sujet de « ${about} »` : ' avant l’échéance'}. Pour confirmer votre adresse, ouvrez ce lien dans les 7 jours :`,
    button: 'Confirmer mon adresse',
    ignore: 'Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : vous ne recevrez rien.',
  },
};
