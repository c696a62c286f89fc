// rumcheck's in-page collector. Injected with Page.addScriptToEvaluateOnNewDocument
// before any page script, so it sees every entry, error and beacon of the visit.
//
// Definitions follow Google's web-vitals v5 (docs/architecture.md, "One visit"): the
// values are frozen when the page first becomes hidden, exactly when a RUM
// agent reports them. Rust appends `(config)` to call this expression:
//   config = { beacon: "<regex source>" | null }
(function rumcheckCollector(config) {
  'use strict';
  // Metrics belong to the top-level document; frames are part of its visit.
  if (window !== window.top) return;
  const KEY = Symbol.for('rumcheck');
  if (window[KEY]) return;

  // Keep our own references: page scripts may replace globals later.
  const perf = performance;
  const PO = window.PerformanceObserver;
  const addListener = window.addEventListener.bind(window);
  const now = () => perf.now();
  const MAX_MESSAGES = 20;
  // Bounds on what one sample carries (docs/results-format.md, "Attribution").
  const MAX_REQUESTS = 200;
  const MAX_SERVER_TIMING = 50;

  const state = {
    hiddenAt: document.visibilityState === 'hidden' && !document.prerendering ? 0 : Infinity,
    hiddenTrusted: false,
    fcpEntry: null,
    lcpEntry: null,
    lcpInfo: null,
    lcpStopped: false,
    shifts: [],
    interactions: new Map(),
    firstInput: null,
    longTasks: [],
    resources: [],
    resourceEntries: [],
    failures: [],
    errorCount: 0,
    errors: [],
    beacons: [],
    pendingBodies: [],
    snapshot: null,
    readBack: false,
    leaving: false,
    // For the finaliser's settle: the last trusted input (start, and when its
    // handlers were done) and the latest event-timing entry's start.
    lastInput: -Infinity,
    lastInputDone: -Infinity,
    presentedFrom: -Infinity,
  };

  // A CSS-ish path to an element: ids end the walk, classes are kept, 100 chars at most.
  const selectorOf = (node) => {
    let path = '';
    try {
      while (node && node.nodeType === 1) {
        const part = node.id
          ? '#' + node.id
          : [node.nodeName.toLowerCase()].concat(Array.from(node.classList).sort()).join('.');
        if (path.length + part.length > 99) return path || part;
        path = path ? part + '>' + path : part;
        if (node.id) break;
        node = node.parentNode;
      }
    } catch (_) {
      // Detached or exotic nodes: keep what we have.
    }
    return path || null;
  };

  const navEntry = () => {
    const nav = perf.getEntriesByType('navigation')[0];
    // Same validity rule as web-vitals: a zero, negative or future responseStart is a browser bug.
    if (nav && nav.responseStart > 0 && nav.responseStart < now()) return nav;
    return null;
  };
  const activationStart = () => {
    const nav = navEntry();
    return nav && nav.activationStart ? nav.activationStart : 0;
  };

  const observers = {};
  const observe = (type, onEntries, extra) => {
    try {
      if (!PO || !PO.supportedEntryTypes.includes(type)) return null;
      const po = new PO((list) => onEntries(list.getEntries()));
      po.observe(Object.assign({ type: type, buffered: true }, extra || {}));
      observers[type] = { po: po, onEntries: onEntries };
      return po;
    } catch (_) {
      return null;
    }
  };
  const flush = () => {
    for (const type of Object.keys(observers)) {
      const o = observers[type];
      const pending = o.po.takeRecords();
      if (pending.length) o.onEntries(pending);
    }
  };

  // FCP: the first-contentful-paint entry, if the page was still visible.
  observe('paint', (entries) => {
    for (const e of entries) {
      if (e.name === 'first-contentful-paint' && !state.fcpEntry && e.startTime < state.hiddenAt) {
        state.fcpEntry = e;
      }
    }
  });

  // LCP: the last candidate of each batch that painted before the page was hidden;
  // observation stops at the first trusted keydown/click or when hidden.
  const lcpPo = observe('largest-contentful-paint', (entries) => {
    if (state.lcpStopped || !entries.length) return;
    const e = entries[entries.length - 1];
    if (e.startTime < state.hiddenAt) {
      state.lcpEntry = e;
      state.lcpInfo = {
        element: selectorOf(e.element),
        url: e.url || null,
        size: e.size,
        render_time: e.renderTime,
        load_time: e.loadTime,
      };
    }
  });
  const stopLcp = () => {
    if (state.lcpStopped || !lcpPo) return;
    const pending = lcpPo.takeRecords();
    if (pending.length) observers['largest-contentful-paint'].onEntries(pending);
    lcpPo.disconnect();
    delete observers['largest-contentful-paint'];
    state.lcpStopped = true;
  };
  // Like web-vitals: finish in an idle task (so late candidates of the same frame
  // still count), or at once when the page is already hidden.
  const whenIdleOrHidden = (cb) => {
    if (document.visibilityState === 'hidden') return cb();
    let done = false;
    const once = () => {
      if (!done) {
        done = true;
        cb();
      }
    };
    addListener('visibilitychange', once, { once: true, capture: true });
    (window.requestIdleCallback || setTimeout)(once);
  };
  for (const type of ['keydown', 'click']) {
    const onInput = (event) => {
      if (!event.isTrusted) return;
      window.removeEventListener(type, onInput, true);
      whenIdleOrHidden(stopLcp);
    };
    addListener(type, onInput, true);
  }

  // CLS input: every shift, with the node that moved the most.
  observe('layout-shift', (entries) => {
    for (const e of entries) {
      let target = null;
      let area = -1;
      for (const s of e.sources || []) {
        const r = s.previousRect;
        const a = r ? r.width * r.height : 0;
        if (s.node && s.node.nodeType === 1 && a > area) {
          area = a;
          target = selectorOf(s.node);
        }
      }
      state.shifts.push({ start: e.startTime, value: e.value, recent: e.hadRecentInput, target: target });
    }
  });

  // INP input: event-timing entries grouped by interactionId (web-vitals observes
  // durations >= 40 ms plus the first input, whatever its duration).
  const onEvents = (entries) => {
    for (const e of entries) {
      if (e.entryType === 'first-input' && !state.firstInput) state.firstInput = e;
      if (!(e.interactionId || e.entryType === 'first-input')) continue;
      let it = state.interactions.get(e.interactionId);
      if (!it) {
        it = {
          latency: -1,
          start: e.startTime,
          type: e.name,
          typeProc: -1,
          target: null,
          procStart: Infinity,
          procEnd: 0,
          end: 0,
        };
        state.interactions.set(e.interactionId, it);
      }
      // Name the interaction after the event whose handlers ran longest (the
      // pointerdown of a click usually lasts longest, but the click handler is
      // what to fix).
      const proc = e.processingEnd - e.processingStart;
      if (proc > it.typeProc) {
        it.type = e.name;
        it.typeProc = proc;
      }
      it.latency = Math.max(it.latency, e.duration);
      it.start = Math.min(it.start, e.startTime);
      it.procStart = Math.min(it.procStart, e.processingStart);
      it.procEnd = Math.max(it.procEnd, e.processingEnd);
      it.end = Math.max(it.end, e.startTime + e.duration);
      if (!it.target && e.target) it.target = selectorOf(e.target);
    }
  };
  const eventPo = observe('event', onEvents, { durationThreshold: 40 });
  if (eventPo) {
    try {
      eventPo.observe({ type: 'first-input', buffered: true });
    } catch (_) {
      // first-input unsupported: INP still works from event entries.
    }
  }

  // The finaliser waits for what is still to be presented (see `due`): the
  // frame after the last input (its event-timing entry, >= 16 ms ones seen
  // here) and the first contentful paint. Entries arrive only once their
  // frame is presented, so hiding the page before that loses them.
  for (const type of ['pointerdown', 'keydown', 'click']) {
    addListener(
      type,
      (event) => {
        if (event.isTrusted) state.lastInput = Math.max(state.lastInput, event.timeStamp);
      },
      true,
    );
    // Bubbling at the window: the page's own handlers have run.
    addListener(type, (event) => {
      if (event.isTrusted) state.lastInputDone = performance.now();
    });
  }
  let presentedPo = null;
  try {
    if (PO && PO.supportedEntryTypes.includes('event')) {
      presentedPo = new PO((list) => {
        for (const e of list.getEntries()) state.presentedFrom = Math.max(state.presentedFrom, e.startTime);
      });
      presentedPo.observe({ type: 'event', durationThreshold: 16 });
    }
  } catch (_) {
    presentedPo = null;
  }
  const hasContent = () => {
    try {
      return !!document.body && (document.body.innerText.trim() !== '' || !!document.querySelector('img,svg,canvas,video'));
    } catch (_) {
      return false;
    }
  };
  // Whether a frame the visit depends on may still be on its way, `since`
  // (performance.now()) the finaliser began to wait: an input whose entry has
  // not come, up to 100 ms after its handlers ended (an interaction under 16 ms
  // never gives one), or a page with content and no FCP yet, up to 250 ms.
  const due = (since) => {
    if (presentedPo) {
      for (const e of presentedPo.takeRecords()) state.presentedFrom = Math.max(state.presentedFrom, e.startTime);
    }
    const now = performance.now();
    const input =
      !!presentedPo && state.lastInput > state.presentedFrom && now - Math.max(state.lastInputDone, state.lastInput) < 100;
    const fcp =
      now - since < 250 &&
      !state.fcpEntry &&
      !performance.getEntriesByName('first-contentful-paint').length &&
      hasContent();
    return input || fcp;
  };

  observe('longtask', (entries) => {
    for (const e of entries) state.longTasks.push({ start: e.startTime, duration: e.duration });
  });

  observe('resource', (entries) => {
    for (const e of entries) {
      // The browser's own favicon fetch is not the page's and lands at a random time.
      if (e.initiatorType === 'other' && /\/favicon\.ico$/.test(e.name)) continue;
      state.resources.push({ url: e.name, size: e.transferSize || 0, status: e.responseStatus || 0 });
      state.resourceEntries.push(e);
    }
  });

  const describe = (value) => {
    if (value && typeof value === 'object' && 'message' in value) return String(value.message);
    try {
      return String(value);
    } catch (_) {
      return '(unprintable)';
    }
  };
  const noteError = (message) => {
    state.errorCount += 1;
    if (state.errors.length < MAX_MESSAGES) state.errors.push(message);
  };
  const noteNetworkFailure = (url) => {
    if (url) state.failures.push({ url: String(url), status: 0 });
  };
  const RESOURCE_TAGS = ['IMG', 'SCRIPT', 'LINK', 'IFRAME', 'VIDEO', 'AUDIO', 'SOURCE', 'EMBED', 'OBJECT'];
  addListener(
    'error',
    (event) => {
      const t = event.target;
      if (t && t !== window && t.nodeType === 1) {
        // A resource failed to load (does not bubble, so we listen in the capture phase).
        if (RESOURCE_TAGS.includes(t.nodeName)) noteNetworkFailure(t.currentSrc || t.src || t.href || t.data);
        return;
      }
      const where = event.filename ? ' (' + event.filename + ':' + event.lineno + ':' + event.colno + ')' : '';
      noteError(describe(event.error || event.message) + where);
    },
    true,
  );
  addListener('unhandledrejection', (event) => noteError('unhandled rejection: ' + describe(event.reason)));

  // Beacon capture and network-failure detection share the fetch/XHR wrappers.
  const beaconRe = config && config.beacon ? new RegExp(config.beacon) : null;
  const absolute = (url) => {
    try {
      return new URL(String(url), document.baseURI).href;
    } catch (_) {
      return String(url);
    }
  };
  const isBeacon = (url) => beaconRe !== null && beaconRe.test(url);
  const record = (transport, url, body) => {
    const beacon = { transport: transport, url: url, body: '', at_ms: now() };
    state.beacons.push(beacon);
    // Agents report on the visibilitychange that follows pagehide when leaving.
    if (state.leaving) queueMicrotask(handOver);
    if (body === undefined || body === null) return;
    if (typeof body === 'string') {
      beacon.body = body;
    } else if (body instanceof URLSearchParams) {
      beacon.body = body.toString();
    } else if (typeof Blob !== 'undefined' && body instanceof Blob) {
      state.pendingBodies.push(body.text().then((text) => (beacon.body = text), () => {}));
    } else if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
      beacon.body = new TextDecoder().decode(body);
    } else if (typeof FormData !== 'undefined' && body instanceof FormData) {
      beacon.body = new URLSearchParams(Array.from(body.entries()).map(([k, v]) => [k, String(v)])).toString();
    } else {
      beacon.body = describe(body);
    }
  };

  // Captured beacons are answered here and never leave the browser: lab
  // visits must not land in the team's production RUM data.
  if (beaconRe && navigator.sendBeacon) {
    const sendBeacon = Navigator.prototype.sendBeacon;
    Navigator.prototype.sendBeacon = function (url, data) {
      const abs = absolute(url);
      if (isBeacon(abs)) {
        record('sendBeacon', abs, data);
        return true;
      }
      return sendBeacon.call(this, url, data);
    };
  }

  const originalFetch = window.fetch;
  if (originalFetch) {
    window.fetch = function (input, init) {
      const url = absolute(input && typeof input === 'object' && 'url' in input ? input.url : input);
      if (isBeacon(url)) {
        record('fetch', url, init && init.body !== undefined ? init.body : null);
        return Promise.resolve(new Response(null, { status: 204 }));
      }
      return originalFetch.apply(this, arguments).catch((err) => {
        noteNetworkFailure(url);
        throw err;
      });
    };
  }

  const xhrUrl = new WeakMap();
  const XHR = window.XMLHttpRequest && XMLHttpRequest.prototype;
  if (XHR) {
    const open = XHR.open;
    const send = XHR.send;
    XHR.open = function (method, url) {
      const abs = absolute(url);
      xhrUrl.set(this, abs);
      if (isBeacon(abs)) {
        // Answer from a data: URL so the agent still sees a completed request.
        const args = Array.prototype.slice.call(arguments);
        args[0] = 'GET';
        args[1] = 'data:text/plain,';
        return open.apply(this, args);
      }
      this.addEventListener('error', () => noteNetworkFailure(abs));
      return open.apply(this, arguments);
    };
    XHR.send = function (body) {
      const url = xhrUrl.get(this);
      if (url && isBeacon(url)) {
        record('xhr', url, body);
        return send.call(this);
      }
      return send.apply(this, arguments);
    };
  }

  if (beaconRe && window.HTMLImageElement) {
    const PIXEL = 'data:image/gif;base64,R0lGODlhAQABAAAAACwAAAAAAQABAAA=';
    const srcDesc = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src');
    const setAttribute = Element.prototype.setAttribute;
    const capture = (value) => {
      const abs = absolute(value);
      if (!isBeacon(abs)) return value;
      record('image', abs, null);
      return PIXEL;
    };
    Object.defineProperty(HTMLImageElement.prototype, 'src', {
      configurable: true,
      enumerable: srcDesc.enumerable,
      get: srcDesc.get,
      set: function (value) {
        srcDesc.set.call(this, capture(value));
      },
    });
    Element.prototype.setAttribute = function (name, value) {
      if (this instanceof HTMLImageElement && String(name).toLowerCase() === 'src') {
        return setAttribute.call(this, name, capture(value));
      }
      return setAttribute.apply(this, arguments);
    };
  }

  // ---- Turning the raw observations into metrics ----

  const clsOf = () => {
    let best = { value: 0, entries: [] };
    let win = { value: 0, entries: [] };
    for (const s of state.shifts) {
      if (s.recent) continue;
      const first = win.entries[0];
      const last = win.entries[win.entries.length - 1];
      if (win.value && first && last && s.start - last.start < 1000 && s.start - first.start < 5000) {
        win.value += s.value;
        win.entries.push(s);
      } else {
        win = { value: s.value, entries: [s] };
      }
      if (win.value > best.value) best = { value: win.value, entries: win.entries.slice() };
    }
    return best;
  };

  // LCP sub-parts as web-vitals' attribution build defines them: each part
  // starts where the previous one ends, so they add up to LCP.
  const lcpParts = (entry, act, nav) => {
    if (!nav) return null;
    const ttfb = Math.max(nav.responseStart - act, 0);
    let res = null;
    if (entry.url) {
      res = state.resourceEntries.find((e) => e.name === entry.url) || null;
      if (!res) res = perf.getEntriesByType('resource').find((e) => e.name === entry.url) || null;
    }
    const requestStart = Math.max(ttfb, res ? (res.requestStart || res.startTime) - act : 0);
    const responseEnd = Math.max(requestStart, res ? res.responseEnd - act : 0);
    const renderTime = Math.max(responseEnd, entry.startTime - act);
    // Long tasks between the content's arrival and the paint hold the render delay.
    let blocked = 0;
    for (const t of state.longTasks) {
      const from = Math.max(t.start - act, responseEnd);
      const to = Math.min(t.start + t.duration - act, renderTime);
      if (to > from) blocked += to - from;
    }
    state.lcpLongTasks = blocked;
    return {
      ttfb: ttfb,
      resource_load_delay: requestStart - ttfb,
      resource_load_duration: responseEnd - requestStart,
      element_render_delay: renderTime - responseEnd,
    };
  };

  // Server-Timing of an entry; the browser exposes a cross-origin
  // resource's only when its server sends Timing-Allow-Origin.
  const serverTimingOf = (e) => {
    try {
      return Array.from(e.serverTiming || []);
    } catch (_) {
      return [];
    }
  };
  const serverTiming = (nav, metrics) => {
    const out = [];
    const add = (e, request) => {
      for (const t of serverTimingOf(e)) {
        if (out.length >= MAX_SERVER_TIMING) return;
        const dur = typeof t.duration === 'number' && isFinite(t.duration) ? t.duration : null;
        out.push({ request: request, name: String(t.name), dur: dur, desc: String(t.description || '') });
        // The navigation's named entries are metrics (`server.db`); the first of a name counts.
        const key = 'server.' + String(t.name).toLowerCase();
        if (request === null && dur !== null && !(key in metrics)) metrics[key] = Math.max(dur, 0);
      }
    };
    if (nav) add(nav, null);
    for (const e of state.resourceEntries) add(e, e.name);
    return out;
  };

  // What a request was: the content type when the browser knows it, else its initiator and extension.
  const kindOf = (e) => {
    const ct = String(e.contentType || '');
    const path = String(e.name).split(/[?#]/)[0];
    if (/css/.test(ct) || (!ct && /\.css$/.test(path))) return 'stylesheet';
    if (/(java|ecma)script/.test(ct) || (!ct && (e.initiatorType === 'script' || /\.m?js$/.test(path)))) return 'script';
    if (/^image\//.test(ct) || (!ct && e.initiatorType === 'img')) return 'image';
    if (/font/.test(ct) || (!ct && /\.(woff2?|ttf|otf)$/.test(path))) return 'font';
    if (/html/.test(ct)) return 'document';
    if (e.initiatorType === 'fetch' || e.initiatorType === 'xmlhttprequest' || e.initiatorType === 'beacon') return 'fetch';
    return 'other';
  };
  const requestSummary = (nav, act) => {
    const out = [];
    if (nav) {
      out.push({
        url: nav.name,
        type: 'document',
        initiator: 'navigation',
        size: nav.transferSize || 0,
        start: 0,
        duration: Math.max(nav.responseEnd - act, 0),
        render_blocking: false,
      });
    }
    for (const e of state.resourceEntries) {
      out.push({
        url: e.name,
        type: kindOf(e),
        initiator: e.initiatorType || 'other',
        size: e.transferSize || 0,
        start: Math.max(e.startTime - act, 0),
        duration: e.duration,
        render_blocking: e.renderBlockingStatus === 'blocking',
      });
    }
    return out;
  };

  const compute = () => {
    const metrics = {};
    const details = {};
    const act = activationStart();
    const nav = navEntry();
    if (nav) {
      metrics.ttfb = Math.max(nav.responseStart - act, 0);
      if (nav.domContentLoadedEventEnd > 0) metrics.dcl = Math.max(nav.domContentLoadedEventEnd - act, 0);
      if (nav.loadEventEnd > 0) metrics.load = Math.max(nav.loadEventEnd - act, 0);
    }
    const fcp = state.fcpEntry;
    if (fcp) metrics.fcp = Math.max(fcp.startTime - act, 0);
    if (state.lcpEntry) {
      metrics.lcp = Math.max(state.lcpEntry.startTime - act, 0);
      details.lcp = Object.assign({}, state.lcpInfo, { parts: lcpParts(state.lcpEntry, act, nav) });
      if (details.lcp.parts) details.lcp.long_tasks_before_paint = state.lcpLongTasks;
    }
    if (fcp) {
      const cls = clsOf();
      metrics.cls = cls.value;
      if (cls.entries.length) {
        const largest = cls.entries.reduce((a, b) => (b.value > a.value ? b : a));
        details.cls = {
          target: largest.target,
          largest_shift_value: largest.value,
          largest_shift_time: largest.start,
          window_shifts: cls.entries.length,
        };
      }
    }
    const list = Array.from(state.interactions.values()).sort((a, b) => b.latency - a.latency).slice(0, 10);
    if (list.length) {
      const count = typeof perf.interactionCount === 'number' ? perf.interactionCount : state.interactions.size;
      const it = list[Math.min(list.length - 1, Math.floor(count / 50))];
      metrics.inp = it.latency;
      details.inp = {
        target: it.target,
        event: it.type,
        interactions: count,
        input_delay: Math.max(it.procStart - it.start, 0),
        processing: Math.max(it.procEnd - it.procStart, 0),
        presentation: Math.max(it.start + it.latency - it.procEnd, 0),
      };
    }
    const fi = state.firstInput;
    if (fi && fi.startTime < state.hiddenAt) metrics.fid = fi.processingStart - fi.startTime;
    if (observers.longtask) {
      metrics.long_tasks = state.longTasks.length;
      if (fcp) {
        let tbt = 0;
        for (const t of state.longTasks) {
          const end = t.start + t.duration;
          // Only the part of a task after FCP blocks a visible page.
          tbt += Math.max(0, end - Math.max(t.start, fcp.startTime) - 50);
        }
        metrics.tbt = tbt;
      }
    }
    const rawNav = perf.getEntriesByType('navigation')[0];
    const all = state.resources.slice();
    if (rawNav) all.unshift({ url: rawNav.name, size: rawNav.transferSize || 0, status: rawNav.responseStatus || 0 });
    metrics.requests = all.length;
    metrics.bytes = all.reduce((sum, r) => sum + r.size, 0);
    const failed = all.filter((r) => r.status >= 400).map((r) => ({ url: r.url, status: r.status }));
    const httpFailedUrls = failed.map((f) => f.url);
    for (const f of state.failures) {
      const i = httpFailedUrls.indexOf(f.url);
      if (i >= 0) httpFailedUrls.splice(i, 1); // already counted through its status
      else failed.push(f);
    }
    metrics.failed_requests = failed.length;
    if (failed.length) details.failed_requests = failed.slice(0, MAX_MESSAGES);
    const timing = serverTiming(nav, metrics);
    if (timing.length) details.server_timing = timing;
    const requests = requestSummary(nav, act);
    details.requests = requests.slice(0, MAX_REQUESTS);
    if (requests.length > MAX_REQUESTS) details.requests_dropped = requests.length - MAX_REQUESTS;
    metrics.js_errors = state.errorCount;
    if (state.errors.length) details.js_errors = state.errors.slice();
    return { metrics: metrics, details: details };
  };

  const freeze = (trusted) => {
    if (state.snapshot) return;
    flush();
    stopLcp();
    state.hiddenTrusted = trusted;
    state.snapshot = compute();
  };

  // The visit ends when the page first becomes hidden, as a real one does.
  addListener(
    'visibilitychange',
    (event) => {
      if (document.visibilityState !== 'hidden') return;
      if (!isFinite(state.hiddenAt)) state.hiddenAt = event.timeStamp;
      freeze(event.isTrusted);
    },
    true,
  );
  // A visit that ends by navigating (a clicked link in a journey) cannot be read
  // by WebDriver any more: hand it to the next same-origin document instead.
  const PREVIOUS_KEY = 'rumcheck:previous-visit';
  let previous = null;
  try {
    const raw = sessionStorage.getItem(PREVIOUS_KEY);
    if (raw) {
      sessionStorage.removeItem(PREVIOUS_KEY);
      previous = JSON.parse(raw);
    }
  } catch (_) {
    // Opaque origins have no sessionStorage.
  }
  const handOver = () => {
    if (!state.leaving || state.readBack || !state.snapshot) return;
    try {
      const visit = { metrics: state.snapshot.metrics, details: state.snapshot.details, beacons: state.beacons, url: location.href };
      sessionStorage.setItem(PREVIOUS_KEY, JSON.stringify(visit));
    } catch (_) {
      // No storage: the visit is lost, as it would be for a RUM agent without beacons.
    }
  };
  addListener(
    'pagehide',
    (event) => {
      freeze(event.isTrusted);
      state.leaving = true;
      handOver();
    },
    true,
  );

  Object.defineProperty(window, KEY, {
    enumerable: false,
    value: Object.freeze({
      // Values as of the first hide (or now, if the page never was hidden),
      // plus every beacon captured so far.
      read: () => {
        state.readBack = true;
        const snap = state.snapshot || (flush(), compute());
        return Promise.all(state.pendingBodies).then(() => ({
          metrics: snap.metrics,
          details: snap.details,
          beacons: state.beacons.slice(),
          hidden: state.snapshot !== null,
          hidden_trusted: state.hiddenTrusted,
          url: location.href,
        }));
      },
      // The visit of the previous same-origin document, if it ended by navigating here.
      previous: () => previous,
      due: due,
    }),
  });
});
