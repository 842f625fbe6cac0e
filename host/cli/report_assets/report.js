/* report.js — the gallery of a `pixab report` (OUTDIR/report/index.html):
 * pages of 50 images, each beside its overlays, with filters by class and
 * method, sorting by name or score and a search on file names. It reads the
 * data files that report.c writes (data/page-NNNNN.js, data/index-NNN.js)
 * through <script> elements, which work from file:// where fetch() does not.
 * Names are data: they reach the page through textContent and attributes
 * only, never as HTML. The view lives in the URL's fragment
 * (#p=3&c=2&m=pixab&s=score&q=cat), so every page can be linked. */
'use strict';
(function () {
  const meta = JSON.parse(document.getElementById('pixab-meta').textContent);
  const PAGE = meta.page_size;
  const rowsBox = document.getElementById('rows');
  if (!rowsBox) return; /* an eval report: no gallery */
  const ui = {
    cls: document.getElementById('f-class'),
    method: document.getElementById('f-method'),
    sort: document.getElementById('f-sort'),
    search: document.getElementById('f-search'),
  };
  const labels = new Map(meta.classes.map(([c, label]) => [c, label]));

  /* ---- the data files -------------------------------------------------------- */

  const pages = new Map(); /* page number -> its rows, as pixabPage delivers them */
  const pageLoads = new Map();
  const chunks = [];
  let index = null; /* every image's name, class, methods and scores, once loaded */
  let indexLoad = null;

  window.pixabPage = (n, rows) => { pages.set(n, rows); };
  window.pixabIndex = (k, cols) => { chunks[k] = cols; };

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = () => { s.remove(); resolve(); };
      s.onerror = () => { s.remove(); reject(new Error('cannot load ' + src)); };
      document.head.appendChild(s);
    });
  }

  const pad = (n, w) => String(n).padStart(w, '0');

  function loadPage(n) {
    if (!pageLoads.has(n)) pageLoads.set(n, loadScript('data/page-' + pad(n, 5) + '.js').then(() => pages.get(n)));
    return pageLoads.get(n);
  }

  /* The row of image id (its page is loaded on demand). */
  function row(id) {
    const n = Math.floor(id / PAGE) + 1;
    return loadPage(n).then((rows) => rows[id - (n - 1) * PAGE]);
  }

  function loadIndex() {
    if (!indexLoad) {
      const loads = [];
      for (let k = 0; k < meta.chunks; k++) loads.push(loadScript('data/index-' + pad(k, 3) + '.js'));
      indexLoad = Promise.all(loads).then(() => {
        index = { name: [], cls: [], mask: [], score: meta.methods.map(() => []) };
        for (const c of chunks) {
          index.name.push(...c.name);
          index.cls.push(...c.cls);
          index.mask.push(...c.mask);
          c.score.forEach((s, m) => index.score[m].push(...s));
        }
      });
    }
    return indexLoad;
  }

  /* ---- the view -------------------------------------------------------------- */

  function readView() {
    const h = new URLSearchParams(location.hash.slice(1));
    const m = meta.methods.indexOf(h.get('m'));
    const c = h.get('c');
    return {
      page: Math.max(1, parseInt(h.get('p'), 10) || 1),
      cls: c !== null && c !== '' && labels.has(Number(c)) ? Number(c) : null,
      method: m >= 0 ? m : null,
      sort: ['name', 'score', 'score-asc'].includes(h.get('s')) ? h.get('s') : '',
      q: h.get('q') || '',
    };
  }

  function viewHash(v, page) {
    const h = new URLSearchParams();
    h.set('p', String(page));
    if (v.cls !== null) h.set('c', String(v.cls));
    if (v.method !== null) h.set('m', meta.methods[v.method]);
    if (v.sort) h.set('s', v.sort);
    if (v.q) h.set('q', v.q);
    return '#' + h.toString();
  }

  /* The ids the view shows, in order: all of them needs no index. */
  async function select(v) {
    if (v.cls === null && v.method === null && !v.sort && !v.q) return null;
    await loadIndex();
    const q = v.q.toLowerCase();
    const ids = [];
    for (let i = 0; i < meta.images; i++) {
      if (v.cls !== null && index.cls[i] !== v.cls) continue;
      if (v.method !== null && !(index.mask[i] & (1 << v.method))) continue;
      if (q && !index.name[i].toLowerCase().includes(q)) continue;
      ids.push(i);
    }
    if (v.sort === 'name') {
      ids.sort((a, b) => (index.name[a] < index.name[b] ? -1 : index.name[a] > index.name[b] ? 1 : a - b));
    } else if (v.sort) {
      const sign = v.sort === 'score' ? -1 : 1;
      const score = (i) => {
        if (v.method !== null) return index.score[v.method][i];
        for (const s of index.score) if (s[i] !== null) return s[i]; /* the first method's that has one */
        return null;
      };
      ids.sort((a, b) => {
        const x = score(a), y = score(b);
        if (x === null || y === null) return (x === null) - (y === null) || a - b; /* none last */
        return sign * (x - y) || a - b;
      });
    }
    return ids;
  }

  /* ---- drawing: elements and text only --------------------------------------------- */

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  const fmt = (x, digits) =>
    x === null || x === undefined ? '–' : Math.abs(x) >= 10 ** digits ? String(Math.round(x)) : Number(x).toPrecision(digits);

  function classText(c) {
    if (c < 0) return 'no class';
    const label = labels.get(c);
    return label ? label + ' (' + c + ')' : 'class ' + c;
  }

  function figure(src, link, caption) {
    const f = el('figure', 'cell');
    const img = el('img', 'thumb');
    img.alt = '';
    img.loading = 'lazy';
    if (src) img.setAttribute('src', src);
    if (link) {
      const a = el('a');
      a.setAttribute('href', link);
      a.appendChild(img);
      f.appendChild(a);
    } else {
      f.appendChild(img);
    }
    for (const line of caption) f.appendChild(el('figcaption', null, line));
    return f;
  }

  function drawRow(r, v) {
    const box = el('article', 'image');
    const head = el('header');
    head.appendChild(el('span', 'name', r.name));
    head.appendChild(el('span', 'class', classText(r.cls)));
    box.appendChild(head);
    const cells = el('div', 'cells');
    cells.appendChild(figure(r.src, r.src, ['image', 'body ' + fmt(r.shared_ms, 3) + ' ms']));
    for (const mp of r.maps) {
      if (v.method !== null && mp.m !== v.method) continue;
      const caption = [meta.methods[mp.m], (mp.kind || 'score') + ' ' + fmt(mp.score, 4), fmt(mp.ms, 3) + ' ms'];
      cells.appendChild(mp.png ? figure(mp.png, mp.png, caption) : figure(null, mp.npy, caption.concat(['no overlay'])));
    }
    box.appendChild(cells);
    return box;
  }

  function drawPager(v, page, pages, total) {
    for (const nav of document.querySelectorAll('nav.pager')) {
      const prev = nav.querySelector('.prev'), next = nav.querySelector('.next');
      if (page > 1) prev.setAttribute('href', viewHash(v, page - 1));
      else prev.removeAttribute('href');
      if (page < pages) next.setAttribute('href', viewHash(v, page + 1));
      else next.removeAttribute('href');
      nav.querySelector('.where').textContent =
        'page ' + page + ' of ' + pages + ' (' + total + (total === 1 ? ' image' : ' images') + ')';
    }
  }

  function fillControls() {
    for (const [c, , n] of meta.classes) {
      const o = el('option', null, classText(c) + ' — ' + n);
      o.value = String(c);
      ui.cls.appendChild(o);
    }
    meta.methods.forEach((m) => {
      const o = el('option', null, m);
      o.value = m;
      ui.method.appendChild(o);
    });
    const go = () => {
      const v = {
        cls: ui.cls.value === '' ? null : Number(ui.cls.value),
        method: ui.method.value === '' ? null : meta.methods.indexOf(ui.method.value),
        sort: ui.sort.value,
        q: ui.search.value,
      };
      location.hash = viewHash(v, 1);
    };
    for (const s of [ui.cls, ui.method, ui.sort]) s.addEventListener('change', go);
    let timer = 0;
    ui.search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(go, 250); });
    document.getElementById('controls').addEventListener('submit', (e) => { e.preventDefault(); go(); });
  }

  let drawing = 0; /* the latest draw wins */
  async function draw() {
    const ticket = ++drawing;
    const v = readView();
    ui.cls.value = v.cls === null ? '' : String(v.cls);
    ui.method.value = v.method === null ? '' : meta.methods[v.method];
    ui.sort.value = v.sort;
    if (document.activeElement !== ui.search) ui.search.value = v.q;
    try {
      const ids = await select(v);
      const total = ids ? ids.length : meta.images;
      const pages = Math.max(1, Math.ceil(total / PAGE));
      const page = Math.min(v.page, pages);
      const first = (page - 1) * PAGE, n = Math.max(0, Math.min(PAGE, total - first));
      const rows = await Promise.all(Array.from({ length: n }, (_, k) => row(ids ? ids[first + k] : first + k)));
      if (ticket !== drawing) return;
      drawPager(v, page, pages, total);
      rowsBox.replaceChildren(...rows.map((r) => drawRow(r, v)));
      if (!n) rowsBox.replaceChildren(el('p', 'empty', 'No image matches.'));
    } catch (err) {
      if (ticket === drawing) rowsBox.replaceChildren(el('p', 'error', String(err.message || err)));
    }
  }

  fillControls();
  window.addEventListener('hashchange', draw);
  draw();
})();
