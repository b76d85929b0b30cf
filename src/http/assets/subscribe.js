// Served same-origin as /assets/subscribe.js (the CSP forbids inline scripts). The pages work
// without it: it only writes deadlines in the visitor's own zone (the server writes them in
// UTC), pre-fills the time zone and moves focus to the error summary.
(() => {
  const lang = document.documentElement.lang || undefined;
  for (const el of document.querySelectorAll('time.local[datetime]')) {
    try {
      const at = new Date(el.getAttribute('datetime'));
      el.textContent = new Intl.DateTimeFormat(lang, {
        weekday: 'long',
        day: 'numeric',
        month: 'long',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZoneName: 'short',
      }).format(at);
    } catch {
      // Leave the server's UTC text.
    }
  }
  const select = document.getElementById('timezone');
  if (select instanceof HTMLSelectElement && select.value === '') {
    let zone = '';
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch {
      zone = '';
    }
    if (zone !== '') {
      const known = Array.from(select.options).some((option) => option.value === zone);
      if (!known) select.add(new Option(zone.replaceAll('_', ' ').replaceAll('/', ' / '), zone), 1);
      select.value = zone;
    }
  }
  const summary = document.getElementById('error-summary');
  if (summary) {
    summary.focus();
    // A fragment link scrolls but does not move focus: put the keyboard on the field itself.
    summary.addEventListener('click', (event) => {
      const link = event.target instanceof Element ? event.target.closest('a[href^="#"]') : null;
      const field = link ? document.getElementById(link.getAttribute('href').slice(1)) : null;
      if (field) {
        event.preventDefault();
        field.focus();
        field.scrollIntoView({ block: 'center' });
      }
    });
  }
})();
