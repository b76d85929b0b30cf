// Served same-origin as /assets/subscribe.js (the CSP forbids inline scripts). The form works
// without it: it only pre-fills the time zone and moves focus to the error summary.
(() => {
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
