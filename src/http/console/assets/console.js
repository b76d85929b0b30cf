// The console's only script (same origin; the CSP allows no inline script). Progressive: every
// page works and says everything without it; with it, instants also show in the reader's own
// zone, countdowns tick, the funnel and the sends chart refresh from the admin API's JSON
// (GET with the session cookie), the plan chart is drawn, and the import streams its file with
// a progress bar.
(() => {
  const lang = document.documentElement.lang || 'en';
  const numbers = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB');
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const localFormat = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  });

  // --- instants in the reader's zone --------------------------------------------------------
  for (const el of document.querySelectorAll('time[data-local]')) {
    const at = new Date(el.getAttribute('datetime'));
    if (Number.isNaN(at.getTime())) continue;
    const span = document.createElement('span');
    span.className = 'local';
    span.textContent = `${localFormat.format(at)} (${zone})`;
    el.after(span);
  }

  // --- countdowns ---------------------------------------------------------------------------
  const countdowns = [...document.querySelectorAll('[data-countdown]')];
  const days = lang === 'fr' ? 'j' : 'd';
  const pad = (n) => String(n).padStart(2, '0');
  function tick() {
    const now = Date.now();
    for (const el of countdowns) {
      const left = Date.parse(el.dataset.countdown) - now;
      if (left <= 0) {
        el.textContent = el.dataset.passed;
        continue;
      }
      const s = Math.floor(left / 1000);
      const d = Math.floor(s / 86400);
      const text = `${d > 0 ? `${d} ${days} ` : ''}${pad(Math.floor((s % 86400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
      if (el.textContent !== text) el.textContent = text;
    }
  }
  if (countdowns.length > 0) {
    tick();
    setInterval(tick, 1000);
  }

  // --- polling helper: stops while the tab is hidden ------------------------------------------
  function poll(everyMs, run) {
    let timer;
    const loop = async () => {
      try {
        await run();
      } catch {
        // A failed refresh keeps the last figures; the next one tries again.
      }
      timer = setTimeout(loop, everyMs);
    };
    document.addEventListener('visibilitychange', () => {
      clearTimeout(timer);
      if (!document.hidden) loop();
    });
    timer = setTimeout(loop, everyMs);
  }
  async function getJson(url) {
    const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (res.status === 401) {
      window.location.reload(); // the session ended: the page redirects to sign-in
      throw new Error('signed out');
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
  }

  // --- the funnel ---------------------------------------------------------------------------
  const funnel = document.getElementById('funnel');
  const meaningsEl = document.getElementById('meanings');
  const meanings = meaningsEl
    ? JSON.parse(meaningsEl.textContent)
    : { whatsapp: {}, smtp: {}, skip: {}, channels: {} };
  function meaningOf(kind, channel, key) {
    if (kind === 'skip') return meanings.skip[key] || '';
    if (channel === 'whatsapp') return meanings.whatsapp[key] || '';
    return /^[45]\d\d$/.test(key) ? meanings.smtp[key[0]] || '' : '';
  }
  function fillBreakdown(id, steps, pick, kind) {
    const body = document.getElementById(id);
    if (!body) return;
    const rows = [];
    for (const r of steps)
      for (const [key, n] of Object.entries(pick(r))) rows.push([r.step, r.channel, key, n]);
    body.replaceChildren();
    if (rows.length === 0) {
      const tr = body.insertRow();
      const td = tr.insertCell();
      td.colSpan = 5;
      td.className = 'muted';
      td.textContent = body.dataset.empty;
      return;
    }
    for (const [step, channel, key, n] of rows) {
      const tr = body.insertRow();
      tr.insertCell().textContent = step;
      tr.insertCell().textContent = meanings.channels[channel] || channel;
      const code = document.createElement('code');
      code.textContent = key;
      tr.insertCell().append(code);
      tr.insertCell().textContent = meaningOf(kind, channel, key);
      const count = tr.insertCell();
      count.className = 'num';
      count.textContent = numbers.format(n);
    }
  }
  if (funnel) {
    poll(3000, async () => {
      const stats = await getJson(funnel.dataset.statsUrl);
      for (const r of stats.steps) {
        const row = funnel.querySelector(`tr[data-row="${CSS.escape(`${r.step}|${r.channel}`)}"]`);
        if (!row) continue;
        for (const cell of row.querySelectorAll('td[data-k]')) {
          const text = numbers.format(r[cell.dataset.k]);
          if (cell.textContent !== text) {
            cell.textContent = text;
            cell.classList.remove('changed');
            void cell.offsetWidth;
            cell.classList.add('changed');
          }
        }
      }
      fillBreakdown('failures', stats.steps, (r) => r.failedByCode, 'failure');
      fillBreakdown('skips', stats.steps, (r) => r.skippedByReason, 'skip');
      const updated = document.getElementById('funnel-updated');
      if (updated) updated.textContent = `${new Date().toISOString().slice(11, 19)} UTC`;
    });
  }

  // --- charts (uPlot) -----------------------------------------------------------------------
  const PALETTE = [
    '#0b4fb3',
    '#b3261e',
    '#1e7e34',
    '#7a4b00',
    '#6f42c1',
    '#00798c',
    '#c2185b',
    '#545b64',
    '#8d6e63',
  ];
  const seconds = (iso) => Date.parse(iso) / 1000;
  const widthOf = (el) => Math.max(280, el.clientWidth);
  // Times in the page's language (uPlot's own are US-style: "6:20am", "12/6/26"): hours and
  // minutes over a short span, the date too over a longer one; counts in the page's digits.
  const locale = lang === 'fr' ? 'fr-FR' : 'en-GB';
  const clock = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
  const dated = new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
  const timeText = (u, s) => {
    const { min, max } = u.scales.x;
    return (max - min > 86_400 ? dated : clock).format(new Date(s * 1000));
  };
  const axes = [
    { stroke: '#3a4452', values: (u, splits) => splits.map((s) => timeText(u, s)) },
    { stroke: '#3a4452', size: 56, values: (_u, splits) => splits.map((v) => numbers.format(v)) },
  ];
  // The legend's figures: at the cursor, else (no cursor on the chart) the latest ones, never "--".
  const latest = (u, si) => u.data[si][u.data[si].length - 1];
  const xLegend = { value: (u, v) => timeText(u, v ?? latest(u, 0)) };
  const countLegend = (u, v, si) => numbers.format(v ?? latest(u, si) ?? 0);

  function sendsChart(el) {
    let plot;
    const draw = async () => {
      const data = await getJson(el.dataset.url);
      const xs = data.minutes.map(seconds);
      const rows = [xs, data.byChannel.whatsapp, data.byChannel.email];
      const sum = rows
        .slice(1)
        .flat()
        .reduce((a, b) => a + b, 0);
      const total = document.getElementById('sends-total');
      if (total) total.textContent = total.dataset.template.replace('{n}', numbers.format(sum));
      el.dataset.total = String(sum);
      if (plot) return plot.setData(rows);
      plot = new uPlot(
        {
          width: widthOf(el),
          height: 240,
          scales: { y: { range: (_u, _min, max) => [0, Math.max(5, max * 1.1)] } },
          axes,
          series: [
            xLegend,
            {
              label: meanings.channels.whatsapp || 'WhatsApp',
              value: countLegend,
              stroke: PALETTE[0],
              width: 2,
              points: { show: false },
            },
            {
              label: meanings.channels.email || 'Email',
              value: countLegend,
              stroke: PALETTE[1],
              width: 2,
              dash: [6, 3],
              points: { show: false },
            },
          ],
        },
        rows,
        el,
      );
      new ResizeObserver(() => plot.setSize({ width: widthOf(el), height: 240 })).observe(el);
    };
    draw().catch(() => {});
    if (el.dataset.live === 'yes') poll(5000, draw);
  }

  function planChart(el) {
    let plot;
    new ResizeObserver(() => plot?.setSize({ width: widthOf(el), height: 280 })).observe(el);
    // The plan changes only as slots go out: redrawn every minute while the campaign runs.
    const draw = () =>
      getJson(el.dataset.url).then((plan) => {
        const total = document.getElementById('plan-total');
        if (total)
          total.textContent =
            plan.total > 0
              ? total.dataset.template.replace('{n}', numbers.format(plan.total))
              : total.dataset.empty;
        plot?.destroy();
        plot = undefined;
        if (plan.hours.length === 0) return;
        const xs = plan.hours.map((h) => seconds(h) + 1800);
        const deadline = seconds(plan.deadline);
        // Stacked bars: series k is the sum of zones 0..k, drawn largest first so that each
        // smaller sum paints over it; the legend shows each zone's own figure.
        const sums = [];
        let running = xs.map(() => 0);
        for (const z of plan.zones) {
          running = running.map((v, i) => v + z.sends[i]);
          sums.push(running);
        }
        const order = plan.zones.map((_, k) => plan.zones.length - 1 - k);
        const bars = uPlot.paths.bars({ size: [0.8, 48] });
        const series = [
          xLegend,
          ...order.map((k) => ({
            label: plan.zones[k].zone,
            fill: PALETTE[k % PALETTE.length],
            stroke: PALETTE[k % PALETTE.length],
            paths: bars,
            points: { show: false },
            // Each zone's own figure (the series draw sums): at the cursor, else the next hour's.
            value: (_u, _v, _si, i) => numbers.format(plan.zones[k].sends[i ?? 0]),
          })),
        ];
        const lastX = xs[xs.length - 1];
        plot = new uPlot(
          {
            width: widthOf(el),
            height: 280,
            scales: {
              x: { range: () => [xs[0] - 3600, Math.max(lastX, deadline) + 3600] },
              y: { range: (_u, _min, max) => [0, Math.max(5, max * 1.1)] },
            },
            axes,
            series,
            hooks: {
              draw: [
                (u) => {
                  const x = u.valToPos(deadline, 'x', true);
                  const { ctx, bbox } = u;
                  ctx.save();
                  ctx.strokeStyle = '#b3261e';
                  ctx.lineWidth = 3;
                  ctx.setLineDash([8, 4]);
                  ctx.beginPath();
                  ctx.moveTo(x, bbox.top);
                  ctx.lineTo(x, bbox.top + bbox.height);
                  ctx.stroke();
                  ctx.restore();
                },
              ],
            },
          },
          [xs, ...order.map((k) => sums[k])],
          el,
        );
      });
    draw().catch(() => {});
    if (el.dataset.live === 'yes') poll(60_000, draw);
  }

  if (window.uPlot) {
    const sends = document.getElementById('sends-chart');
    if (sends) sendsChart(sends);
    const plan = document.getElementById('plan-chart');
    if (plan) planChart(plan);
  }

  // --- import: stream the file with its progress ------------------------------------------------
  const form = document.getElementById('import-form');
  if (form) {
    const bar = document.getElementById('progress');
    const barText = document.getElementById('progress-text');
    const result = document.getElementById('import-result');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const file = form.elements.file.files[0];
      if (!file) return;
      const params = new URLSearchParams();
      if (form.elements.dryRun.checked) params.set('dryRun', 'true');
      if (form.elements.strict.checked) params.set('strict', 'true');
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${form.action}?${params}`);
      xhr.setRequestHeader('content-type', 'text/csv');
      xhr.setRequestHeader('x-csrf-token', form.dataset.csrf);
      const show = (percent) => {
        bar.value = percent;
        bar.textContent = `${percent}%`;
        barText.textContent = `${percent}%`;
      };
      show(0);
      result.replaceChildren();
      form.querySelector('button[type="submit"]').disabled = true;
      // The server reads the file as it arrives, so the upload's progress is the import's.
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) show(Math.min(99, Math.floor((e.loaded / e.total) * 100)));
      });
      xhr.addEventListener('load', () => {
        show(100);
        result.innerHTML = xhr.responseText;
        form.querySelector('button[type="submit"]').disabled = false;
        result.querySelector('h2, p')?.setAttribute('tabindex', '-1');
        result.querySelector('h2, p')?.focus();
      });
      xhr.addEventListener('error', () => {
        barText.textContent = '!';
        form.querySelector('button[type="submit"]').disabled = false;
      });
      xhr.send(file);
    });
  }
})();
