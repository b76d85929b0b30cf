// English: the same shape as i18n.fr.ts (the type checker holds them together).
import type { Messages } from './i18n.ts';

export const en: Messages = {
  lang: 'en',
  quote: (text: string) => `“${text}”`,
  colon: ': ',
  switchTo: { lang: 'fr', label: 'Français' },
  form: {
    title: 'Get reminders before the deadline',
    intro:
      'Get a reminder on WhatsApp or by email, at your local time, with the steps that fit the assistant you use. You can stop at any time.',
    requiredNote: 'All fields are required unless marked otherwise.',
    neededFor: { phone: '(for WhatsApp)', email: '(for email)' },
    name: { label: 'Your name', hint: 'Used to greet you in the messages.' },
    phone: {
      label: 'WhatsApp phone number',
      hint: 'With the country code, for example +1 514 555 0123. Needed for WhatsApp.',
    },
    email: {
      label: 'Email address',
      hint: 'Needed for emails: we will send you a link to confirm the address.',
    },
    assistant: { legend: 'Which assistant do you use on WhatsApp?', both: 'Both' },
    channels: {
      legend: 'How do you want to be reminded?',
      hint: 'Tick one channel or both.',
      whatsapp: 'WhatsApp',
      email: 'Email',
    },
    timezone: {
      label: 'Your time zone',
      hint: 'Filled in from your browser; change it if needed. Reminders arrive in the daytime, at your time.',
      placeholder: 'Choose a time zone',
    },
    consent: {
      legend: 'Your consent',
      text: (sender: string) =>
        `I agree to receive reminders about this deadline from ${sender}, on WhatsApp and by email according to the channels I ticked above. I can stop at any time: by replying STOP on WhatsApp, or with the unsubscribe link in every email.`,
      textOne: (sender: string, channel: string) =>
        `I agree to receive reminders about this deadline from ${sender}, by ${channel}. I can stop at any time: ${channel === 'WhatsApp' ? 'by replying STOP on WhatsApp' : 'with the unsubscribe link in every email'}.`,
    },
    honeypot: 'Leave this field empty',
    submit: 'Sign me up',
  },
  errors: {
    summaryTitle: 'There is a problem',
    prefix: 'Error:',
    titlePrefix: 'Error: ',
    nameRequired: 'Enter your name.',
    nameTooLong: 'Your name must be at most 200 characters.',
    nameOneLine: 'Your name must fit on one line.',
    phoneInvalid: 'Enter a valid phone number, with the country code, for example +1 514 555 0123.',
    phoneForWhatsApp: 'Enter a phone number to get reminders on WhatsApp.',
    contactRequired: 'Enter a phone number, an email address, or both.',
    emailInvalid: 'Enter a valid email address, for example name@example.com.',
    emailForEmail: 'Enter an email address to get reminders by email.',
    conflict:
      'This email address and this phone number belong to two different sign-ups: enter the ones of a single sign-up.',
    assistant: 'Choose the assistant you use.',
    channels: 'Choose at least one channel: WhatsApp, email, or both.',
    timezone: 'Choose your time zone from the list.',
    consent: 'Tick the box to agree to receive the reminders.',
    other: 'A value was not accepted. Check the form.',
  },
  success: {
    title: 'Thank you, you are signed up',
    whatsapp: 'You will get the reminders on WhatsApp. Reply STOP at any time to stop them.',
    checkEmail:
      'We have just sent you an email. Open it and follow the link to confirm your address: without this confirmation, you will not get reminders by email.',
    emailActive: 'Your email address is already confirmed: you will get the reminders by email too.',
    emailNotSent:
      'The confirmation email could not be sent for now. Sign up again a little later to get the link.',
  },
  confirm: {
    confirmedTitle: 'Email address confirmed',
    confirmedBody: 'Thank you! You will get the reminders by email, at your local time.',
    alreadyBody: 'Your address was already confirmed. There is nothing else to do.',
    notPendingTitle: 'Nothing to confirm',
    notPendingBody:
      'This address is not waiting for a confirmation: it may have been unsubscribed since. To get the reminders again, sign up.',
  },
  unsubscribe: {
    title: 'Unsubscribe',
    askAll: 'You will no longer get any reminder, neither on WhatsApp nor by email.',
    askEmail: 'You will no longer get reminders by email.',
    askWhatsapp: 'You will no longer get reminders on WhatsApp.',
    button: 'Confirm unsubscribe',
    doneTitle: 'You are unsubscribed',
    doneAll: 'Done: you will no longer get any reminder, neither on WhatsApp nor by email.',
    doneEmail: 'Done: you will no longer get reminders by email.',
    doneWhatsapp: 'Done: you will no longer get reminders on WhatsApp.',
    continuesWhatsapp: 'Reminders on WhatsApp continue: reply STOP there to stop them too.',
    continuesEmail: 'Reminders by email continue: the link at the bottom of each one stops them too.',
    closePage: 'You can close this page.',
  },
  done: {
    askTitle: 'Are you done?',
    ask: 'If you have done what the reminders ask (for example, exported your chats), confirm and we will send you no more reminders for this deadline.',
    button: 'I am done',
    title: 'Noted',
    body: 'You are done: we will not send you any more reminders for this deadline. Thank you!',
  },
  link: {
    invalidTitle: 'This link is not valid',
    invalidBody: 'Check that it was copied in full, or use the link in a more recent message.',
    expiredTitle: 'This link has expired',
    expiredBody: 'To get a new confirmation link, sign up again.',
    goneTitle: 'Sign-up not found',
    goneBody: 'This sign-up no longer exists. No reminder will be sent to you.',
  },
  http: {
    400: ['Bad request', 'The request could not be read. Go back to the form and try again.'],
    404: ['Page not found', 'This address does not match any page.'],
    413: ['Form too large', 'The form you sent is too large. Shorten the fields and try again.'],
    415: ['Unsupported format', 'Send the form from the sign-up page.'],
    429: ['Too many attempts', 'You sent the form too often. Wait a minute and try again.'],
    500: ['Something went wrong', 'Try again in a few moments. If the problem goes on, contact us.'],
  },
  backToForm: 'Back to the form',
  campaign: {
    listTitle: 'Sign up for reminders',
    listIntro: 'Choose the deadline you want to be reminded of:',
    deadline: 'Deadline:',
    before: (when: string) => `${when} before`,
    remindersTitle: 'The reminders',
    /** `calendar`: "weekdays 9:00–18:00 your time" (describeCalendar). */
    remindersIntro: (calendar: string) => `Sent ${calendar}:`,
    sampleSummary: 'What the first WhatsApp message says',
    closedTitle: 'Sign-ups are closed',
    closedBody: 'The deadline of this campaign has passed: no more reminders will be sent.',
    noneTitle: 'No sign-up is open',
    noneBody: 'There is no deadline to sign up for at the moment.',
    noChannels: 'No channel is configured on this server yet: sign-ups are closed for now.',
    channelNames: { whatsapp: 'WhatsApp', email: 'email' },
  },
  help: {
    deadlineIs: 'The deadline is:',
    passed: 'This deadline has passed. It was:',
    passedNote: 'No more reminders are sent for it.',
    signUp: 'Get reminders for it',
    steps: 'The reminders',
  },
  email: {
    subject: 'Confirm your address to get the reminders',
    greeting: (name: string) => `Hello ${name},`,
    body: (sender: string, about: string | undefined) =>
      `You (or someone who typed your address) asked ${sender} for reminders by email${about ? ` about “${about}”` : ' before the deadline'}. To confirm your address, open this link within 7 days:`,
    button: 'Confirm my address',
    ignore: 'If you did not ask for this, ignore this message: you will get nothing.',
  },
};
