import type { Locale } from '../shared/vocabulary.ts';
// The words of the /help page every reminder links to, French first (the shipped campaign's
// facts, as its message templates in config/messages/ say them). No date here: the page takes the
// deadline from the campaign and says when it has passed. Plain strings only: the page escapes
// them. Both languages share one shape, so the type checker keeps them in step.

export interface HelpSection {
  readonly heading: string;
  readonly paragraphs: readonly string[];
  /** Steps to follow in order (rendered as a numbered list). */
  readonly steps?: readonly string[];
}

export interface HelpContent {
  readonly title: string;
  readonly intro: string;
  readonly sections: readonly HelpSection[];
}

const fr: HelpContent = {
  title: 'ChatGPT et Copilot quittent WhatsApp',
  intro:
    'À l’échéance, ChatGPT et Copilot ne fonctionnent plus sur WhatsApp. Voici ce que vous pouvez faire avant, en quelques minutes.',
  sections: [
    {
      heading: 'Pourquoi',
      paragraphs: [
        'Les conditions de l’API WhatsApp Business de Meta interdisent désormais les assistants d’IA généralistes sur WhatsApp. Les robots de service client des entreprises ne sont pas concernés.',
      ],
    },
    {
      heading: 'Vous utilisez ChatGPT',
      paragraphs: [
        'Vous pouvez garder votre historique en reliant votre numéro WhatsApp à un compte ChatGPT. Vous pouvez aussi exporter la conversation (voir plus bas).',
      ],
    },
    {
      heading: 'Vous utilisez Copilot',
      paragraphs: [
        'Copilot ne propose pas de transfert : pour garder vos conversations, exportez-les vous-même avant l’échéance.',
      ],
    },
    {
      heading: 'Exporter une conversation WhatsApp',
      paragraphs: [],
      steps: [
        'Ouvrez la conversation avec ChatGPT ou Copilot.',
        'Sur Android : touchez ⋮ (en haut à droite), puis Plus, puis Exporter la discussion.',
        'Sur iPhone : touchez le nom du contact en haut, puis Exporter la discussion.',
        'Choisissez avec ou sans médias.',
        'Enregistrez le fichier ailleurs que sur le téléphone : par e-mail, dans un espace de stockage en ligne ou sur un ordinateur.',
      ],
    },
    {
      heading: 'Après l’échéance',
      paragraphs: [
        'ChatGPT et Copilot restent disponibles dans leurs propres applications : sur le web, sur mobile et sur ordinateur.',
      ],
    },
    {
      heading: 'Arrêter les rappels',
      paragraphs: [
        'Sur WhatsApp, répondez STOP. Par e-mail, utilisez le lien de désinscription présent dans chaque message.',
        'Vous avez fini ? Suivez le lien « C’est fait » du rappel, ou répondez FAIT sur WhatsApp : vous ne recevrez plus de rappels.',
      ],
    },
  ],
};

const en: HelpContent = {
  title: 'ChatGPT and Copilot leave WhatsApp',
  intro:
    'From the deadline, ChatGPT and Copilot no longer work on WhatsApp. Here is what you can do before it, in a few minutes.',
  sections: [
    {
      heading: 'Why',
      paragraphs: [
        'Meta’s WhatsApp Business API terms now forbid general-purpose AI assistants on WhatsApp. Businesses’ customer-support bots are not affected.',
      ],
    },
    {
      heading: 'If you use ChatGPT',
      paragraphs: [
        'You can keep your history by linking your WhatsApp number to a ChatGPT account. You can also export the chat (see below).',
      ],
    },
    {
      heading: 'If you use Copilot',
      paragraphs: [
        'Copilot offers no transfer: to keep your chats, export them yourself before the deadline.',
      ],
    },
    {
      heading: 'Export a WhatsApp chat',
      paragraphs: [],
      steps: [
        'Open the chat with ChatGPT or Copilot.',
        'On Android: tap ⋮ (top right), then More, then Export chat.',
        'On iPhone: tap the contact’s name at the top, then Export chat.',
        'Choose with or without media.',
        'Save the file somewhere other than the phone: by email, in online storage or on a computer.',
      ],
    },
    {
      heading: 'After the deadline',
      paragraphs: [
        'ChatGPT and Copilot stay available in their own apps: on the web, on mobile and on desktop.',
      ],
    },
    {
      heading: 'Stop the reminders',
      paragraphs: [
        'On WhatsApp, reply STOP. By email, use the unsubscribe link in every message.',
        'All done? Follow the “I’ve done it” link in the reminder, or reply DONE on WhatsApp: you will get no more reminders.',
      ],
    },
  ],
};

export const HELP: Readonly<Record<Locale, HelpContent>> = { fr, en };
