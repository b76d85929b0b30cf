// The sandbox inbox's script, served same-origin as /inbox/inbox.js (the CSP forbids inline
// scripts). The page works without it; it only keeps the page current: it polls the JSON state
// and, when the version changes, swaps in the list and the thread the server rendered. Times
// are shown in the browser's own zone.
(() => {
  const body = document.body;
  const list = document.getElementById('list');
  const thread = document.getElementById('thread');
  const selected = body.dataset.selected || '';
  let version = body.dataset.version || '';

  const localTimes = (root) => {
    for (const el of root.querySelectorAll('time[datetime]')) {
      const at = new Date(el.getAttribute('datetime'));
      el.textContent = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      el.title = at.toLocaleString();
    }
  };
  const toBottom = () => {
    if (thread) thread.scrollTop = thread.scrollHeight;
  };

  async function poll() {
    try {
      const res = await fetch(`/inbox/api/state?to=${encodeURIComponent(selected)}`, { cache: 'no-store' });
      if (res.ok) {
        const state = await res.json();
        if (String(state.version) !== version) {
          version = String(state.version);
          // The first conversation just arrived: open it, so that its composer appears.
          if (selected === '' && state.selected) {
            window.location.replace(`/?to=${encodeURIComponent(state.selected)}`);
            return;
          }
          // The open conversation's first message arrived: reload for its reply box.
          if (String(state.composer) !== String(body.dataset.composer === 'yes')) {
            window.location.reload();
            return;
          }
          if (list) list.innerHTML = state.html.list;
          if (thread) thread.innerHTML = state.html.thread;
          localTimes(document);
          toBottom();
        }
      }
    } catch {
      // The sandbox restarted or is stopping: try again on the next round.
    }
    setTimeout(poll, 1500);
  }

  localTimes(document);
  toBottom();
  setTimeout(poll, 1500);
})();
