// Templates registered in the fake Graph API by the tests: Meta's management format.
import type { TemplateSeed } from './graph-api.ts';

export const reminderFr: TemplateSeed = {
  name: 'deadline_reminder',
  language: 'fr',
  category: 'UTILITY',
  components: [
    { type: 'HEADER', format: 'TEXT', text: 'Rappel' },
    {
      type: 'BODY',
      text: 'Bonjour {{1}}, il reste {{2}} jours avant le {{3}}.',
      example: { body_text: [['Anaïs', '7', '15 janvier']] },
    },
    { type: 'FOOTER', text: 'Répondez STOP pour ne plus rien recevoir' },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'QUICK_REPLY', text: 'STOP' },
        {
          type: 'URL',
          text: 'Mode d’emploi',
          url: 'https://example.org/l/{{1}}',
          example: ['https://example.org/l/abc'],
        },
      ],
    },
  ],
};

export const pausedEn: TemplateSeed = {
  name: 'last_hours',
  language: 'en',
  category: 'UTILITY',
  status: 'PAUSED',
  components: [{ type: 'BODY', text: 'Only a few hours left, {{1}}.', example: { body_text: [['Sam']] } }],
};
